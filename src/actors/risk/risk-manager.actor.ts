import type { ActorContext, Behavior, Json } from '../core/index.js';
import { assertNever, DAY_MS, isTerminal, istDate, istDayStartMs, newOrder, type Instrument } from '../../model/index.js';
import { RiskManager, type EncodedRiskManager, type KillSwitchState, type RiskManagerLimits } from '../../risk/risk-manager.js';
import type { Directory } from '../../runtime/directory.js';
import type { EventBus } from '../../runtime/event-bus.js';
import type { MarketCache } from '../../runtime/market-cache.js';
import type { Metrics } from '../../runtime/metrics.js';
import type { RiskStatus } from './risk.protocol.js';
import type { RiskManagerCommand, RiskManagerState, RiskReport } from './risk-manager.protocol.js';

/** What the full risk actor needs. The same as the minimal one's, plus an optional instrument lookup. */
export interface RiskManagerActorDeps {
  readonly directory: Directory;
  readonly cache: MarketCache;
  readonly bus: EventBus;
  readonly metrics: Metrics;
  readonly clock: { nowMs(): number };
  readonly limits: RiskManagerLimits;
  /** Enables the lot, freeze, tick and price band checks. */
  readonly instrument?: (symbol: string) => Instrument | undefined;
  /** The MIS cut-off, minutes after IST midnight (default 15:20). */
  readonly squareOffMinute?: number;
  /** How long to wait for the execution actor's open orders after a kill switch trip. */
  readonly askTimeoutMs?: number;
}

interface EncodedState {
  approved: number;
  rejected: number;
  day: string;
  manager: EncodedRiskManager;
}

/**
 * The full risk manager as an actor: a drop-in for `riskBehavior` (same deps plus an
 * optional instrument lookup, a superset protocol). Approves (a PlaceOrder to execution) or
 * refuses (a RiskAlert with the code and reason, an IntentRejected to the strategy, a reply
 * when asked). When the daily loss trips the kill switch it publishes a critical RiskAlert,
 * pauses every strategy and cancels every open order, then refuses all intents until a
 * `ResetKillSwitch`.
 */
export function riskManagerBehavior(deps: RiskManagerActorDeps): Behavior<RiskManagerCommand, RiskManagerState> {
  const options = { ...(deps.instrument ? { instrument: deps.instrument } : {}), ...(deps.squareOffMinute === undefined ? {} : { squareOffMinute: deps.squareOffMinute }) };
  let manager = new RiskManager(deps.limits, options);

  const haltTrading = (trip: KillSwitchState, ctx: ActorContext<RiskManagerCommand>): void => {
    deps.metrics.riskRejections.inc({ code: 'kill-switch' });
    deps.bus.publish({ type: 'RiskAlert', severity: 'critical', code: 'kill-switch', message: trip.message, atMs: trip.trippedAtMs });
    for (const action of trip.actions) {
      switch (action) {
        case 'pause-strategies':
          for (const strategy of deps.directory.strategies.values()) ctx.system.tell(strategy, { type: 'Pause' });
          break;
        case 'cancel-open-orders': {
          const execution = deps.directory.execution;
          if (!execution) break;
          ctx.pipeToSelf(
            ctx.system.ask(execution, (replyTo) => ({ type: 'GetOrders', replyTo }), deps.askTimeoutMs ?? 2000),
            (result) => ({ type: 'OpenOrdersForKillSwitch', result }),
          );
          break;
        }
        default:
          assertNever(action, 'risk action');
      }
    }
  };

  // the IST day currently open, cached so that most messages skip the date arithmetic
  let dayStartMs = Number.NaN;
  let dayEndMs = Number.NaN;
  const rollDay = (state: RiskManagerState, nowMs: number): void => {
    if (nowMs >= dayStartMs && nowMs < dayEndMs) return;
    dayStartMs = istDayStartMs(nowMs);
    dayEndMs = dayStartMs + DAY_MS;
    const day = istDate(nowMs);
    if (day === state.day) return;
    if (state.day !== '') manager.startDay();
    state.day = day;
  };

  return {
    kind: 'risk',
    initial(_ctx, restored) {
      dayStartMs = Number.NaN;
      dayEndMs = Number.NaN;
      manager = new RiskManager(deps.limits, options);
      const encoded = restored as unknown as EncodedState | undefined;
      // no snapshot, or one of the minimal gate's shape (before the risk manager): start a fresh book
      if (!encoded || encoded.manager === undefined) return { approved: encoded?.approved ?? 0, rejected: encoded?.rejected ?? 0, day: '' };
      manager.restore(encoded.manager);
      return { approved: encoded.approved, rejected: encoded.rejected, day: encoded.day };
    },
    snapshot: {
      codec: {
        version: 1,
        encode: (state) => ({ approved: state.approved, rejected: state.rejected, day: state.day, manager: manager.encode() as unknown as Json }),
        decode: (json) => structuredClone(json) as unknown as RiskManagerState,
      },
      everyMs: 1000,
    },
    receive(state, message, ctx) {
      switch (message.type) {
        case 'EvaluateIntent': {
          const { intent, clientOrderId } = message;
          const nowMs = deps.clock.nowMs();
          rollDay(state, nowMs);
          // marks are fresh already: the symbol actors' Marks reach this mailbox before the
          // intents their ticks caused (per-actor FIFO across inlets and tells)
          const wasKilled = manager.killSwitch !== undefined;
          const verdict = manager.evaluate(intent, nowMs, deps.cache.lastPrice(intent.symbol));
          if (!verdict.approved) {
            const { rejection } = verdict;
            if (!wasKilled && manager.killSwitch) haltTrading(manager.killSwitch, ctx);
            state.rejected += 1;
            deps.metrics.riskRejections.inc({ code: rejection.code });
            deps.bus.publish({
              type: 'RiskAlert',
              severity: rejection.severity,
              code: rejection.code,
              message: rejection.message,
              atMs: nowMs,
              intent,
              strategyId: intent.strategyId,
              symbol: intent.symbol,
            });
            const strategy = deps.directory.strategies.get(intent.strategyId);
            if (strategy) {
              ctx.system.tell(strategy, {
                type: 'OrderEvent',
                event: { type: 'IntentRejected', intentId: intent.intentId, symbol: intent.symbol, reason: rejection.message },
              });
            }
            if (message.replyTo) ctx.system.tell(message.replyTo, { approved: false, rejection });
            return state;
          }
          state.approved += 1;
          ctx.system.tell(deps.directory.requireExecution(), {
            type: 'PlaceOrder',
            order: newOrder(intent, clientOrderId, nowMs),
            ...(intent.triggerReceivedMonoMs === undefined ? {} : { triggerReceivedMonoMs: intent.triggerReceivedMonoMs }),
          });
          if (message.replyTo) ctx.system.tell(message.replyTo, { approved: true, clientOrderId });
          return state;
        }
        case 'FillApplied': {
          const nowMs = deps.clock.nowMs();
          rollDay(state, nowMs);
          const pricePaise = message.pricePaise ?? deps.cache.lastPrice(message.symbol) ?? manager.mark(message.symbol) ?? 0;
          const trip = manager.onFill(
            {
              portfolioId: message.portfolioId,
              symbol: message.symbol,
              signedQuantity: message.signedQuantity,
              pricePaise,
              ...(message.chargesPaise === undefined ? {} : { chargesPaise: message.chargesPaise }),
              ...(message.unreserved === true ? { unreserved: true } : {}),
            },
            nowMs,
          );
          if (trip) haltTrading(trip, ctx);
          return state;
        }
        case 'OrderClosed':
          manager.onOrderClosed(message.portfolioId, message.symbol, message.signedRemainder);
          return state;
        case 'Marks': {
          const nowMs = deps.clock.nowMs();
          rollDay(state, nowMs);
          for (const tick of message.ticks) {
            const trip = manager.onMark(tick.symbol, tick.ltpPaise, nowMs);
            if (trip) haltTrading(trip, ctx);
          }
          return state;
        }
        case 'ResetKillSwitch': {
          const was = manager.killSwitch;
          manager.resetKillSwitch();
          if (was) {
            deps.bus.publish({ type: 'RiskAlert', severity: 'info', code: 'kill-switch-reset', message: `kill switch reset by ${message.requestedBy}`, atMs: deps.clock.nowMs() });
          }
          if (message.replyTo) ctx.system.tell(message.replyTo, true);
          return state;
        }
        case 'StartDay':
          manager.startDay();
          state.day = istDate(deps.clock.nowMs());
          return state;
        case 'OpenOrdersForKillSwitch': {
          if (!message.result.ok) {
            ctx.log.error({ error: String(message.result.error) }, 'kill switch: could not list open orders; cancel them by hand');
            deps.bus.publish({
              type: 'RiskAlert',
              severity: 'critical',
              code: 'kill-switch-cancel-failed',
              message: 'the kill switch could not list open orders; cancel them by hand',
              atMs: deps.clock.nowMs(),
            });
            return state;
          }
          const execution = deps.directory.execution;
          if (!execution) return state;
          for (const order of message.result.value) {
            if (!isTerminal(order.status)) ctx.system.tell(execution, { type: 'CancelOrder', clientOrderId: order.clientOrderId, requestedBy: 'risk:kill-switch' });
          }
          return state;
        }
        case 'GetStatus': {
          const status: RiskStatus = { approved: state.approved, rejected: state.rejected, exposures: manager.exposureViews() };
          ctx.system.tell(message.replyTo, status);
          return state;
        }
        case 'GetRiskReport': {
          const report: RiskReport = {
            approved: state.approved,
            rejected: state.rejected,
            killSwitch: manager.killSwitch ?? null,
            portfolios: Object.fromEntries(manager.portfolioIds().map((id) => [id, manager.portfolio(id)])),
          };
          ctx.system.tell(message.replyTo, report);
          return state;
        }
        default:
          return assertNever(message, 'risk manager command');
      }
    },
  };
}
