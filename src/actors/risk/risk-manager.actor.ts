import { LOG_DATASETS } from '../../runtime/log-fields.js';
import type { ActorContext, Behavior, Json } from '../core/index.js';
import { assertNever, DAY_MS, isTerminal, istDate, istDayStartMs, newOrder, type Instrument, type OrderIntent } from '../../model/index.js';
import { PACING_EXPIRED, PacingQueue, type EncodedPacingQueue, type PacedIntent } from '../../risk/pacing-queue.js';
import { RiskManager, type EncodedRiskManager, type KillSwitchState, type RiskManagerLimits, type RiskManagerRejection } from '../../risk/risk-manager.js';
import type { Directory } from '../../runtime/directory.js';
import type { EventBus } from '../../runtime/event-bus.js';
import type { MarketCache } from '../../runtime/market-cache.js';
import type { Metrics } from '../../runtime/metrics.js';
import type { StrategyCommand } from '../strategy/strategy.protocol.js';
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
  /** The pacing queue: how long (clock time) a queued entry may wait before it is dropped as stale. Default 5 minutes. */
  readonly maxPacedEntryWaitMs?: number;
}

interface EncodedState {
  approved: number;
  rejected: number;
  day: string;
  manager: EncodedRiskManager;
  /** The pacing queue (absent in snapshots from before it). */
  paced?: EncodedPacingQueue;
}

/** A refusal that is only pacing: the intent is queued instead (see {@link PacingQueue}). */
const isPacing = (rejection: RiskManagerRejection): boolean => rejection.code === 'max-orders-per-second' || rejection.code === 'max-orders-per-second-strategy';

/**
 * The full risk manager as an actor: a drop-in for `riskBehavior` (same deps plus an
 * optional instrument lookup, a superset protocol). Approves (a PlaceOrder to execution) or
 * refuses (a RiskAlert with the code and reason, an IntentRejected to the strategy, a reply
 * when asked). When the daily loss trips the kill switch it publishes a critical RiskAlert,
 * pauses every strategy and cancels every open order, then refuses all intents until a
 * `ResetKillSwitch`.
 *
 * An intent refused only by the orders-per-second limits is not refused: it waits in a
 * {@link PacingQueue} (its strategy hears `IntentPaced`) and is evaluated again, exits first,
 * then entries in arrival order, on the first message that finds the clock moved on (every
 * tick's mark reaches this actor, so in market time that is the next tick; in a backtest the
 * next step). Released: `IntentReleased` to the strategy, then the order. A queued entry older
 * than `maxPacedEntryWaitMs` is dropped (a `pacing-expired` RiskAlert and IntentRejected); an
 * exit never is. A manual order (with `replyTo`) is answered at once instead: a refusal.
 */
export function riskManagerBehavior(deps: RiskManagerActorDeps): Behavior<RiskManagerCommand, RiskManagerState> {
  const options = { ...(deps.instrument ? { instrument: deps.instrument } : {}), ...(deps.squareOffMinute === undefined ? {} : { squareOffMinute: deps.squareOffMinute }) };
  let manager = new RiskManager(deps.limits, options);
  let queue = new PacingQueue(deps.maxPacedEntryWaitMs);
  /** The clock time of the last release attempt: windows only open when time moves. */
  let lastReleaseAtMs = Number.NEGATIVE_INFINITY;
  // the kill switch and the day's P&L for alerting, read at scrape time (no cost per message)
  deps.metrics.bindRisk(() => ({
    killSwitchEngaged: manager.killSwitch !== undefined,
    maxDailyLossPaise: deps.limits.maxDailyLossPaise,
    portfolios: manager.portfolioIds().map((portfolioId) => ({ portfolioId, dayPnlPaise: manager.dayPnlPaise(portfolioId) })),
  }));

  const tellStrategy = (ctx: ActorContext<RiskManagerCommand>, strategyId: string, message: StrategyCommand): void => {
    const strategy = deps.directory.strategies.get(strategyId);
    if (strategy) ctx.system.tell(strategy, message);
  };

  /** Sends an approved intent to execution; `fromQueue`: it waited for pacing (its tick-to-order latency is not the pipeline's). */
  const place = (state: RiskManagerState, ctx: ActorContext<RiskManagerCommand>, intent: OrderIntent, clientOrderId: string, nowMs: number, fromQueue = false): void => {
    state.approved += 1;
    ctx.system.tell(deps.directory.requireExecution(), {
      type: 'PlaceOrder',
      order: newOrder(intent, clientOrderId, nowMs),
      ...(intent.triggerReceivedMonoMs === undefined || fromQueue ? {} : { triggerReceivedMonoMs: intent.triggerReceivedMonoMs }),
    });
  };

  /** A refusal: counted, a RiskAlert, an IntentRejected to the strategy. */
  const refuse = (state: RiskManagerState, ctx: ActorContext<RiskManagerCommand>, intent: OrderIntent, code: string, message: string, severity: 'info' | 'warning' | 'critical', nowMs: number): void => {
    state.rejected += 1;
    deps.metrics.riskRejections.inc({ code });
    const fields = { 'event.dataset': LOG_DATASETS.orders, intentId: intent.intentId, strategyId: intent.strategyId, portfolioId: intent.portfolioId, symbol: intent.symbol, side: intent.side, quantity: intent.quantity, code, reason: message };
    // a stale paced intent was logged when it was queued: its expiry (hundreds a minute in a busy market) is debug detail
    if (code === PACING_EXPIRED) ctx.log.debug(fields, 'intent rejected by risk');
    else if (severity === 'info') ctx.log.info(fields, 'intent rejected by risk');
    else if (severity === 'warning') ctx.log.warn(fields, 'intent rejected by risk');
    else ctx.log.error(fields, 'intent rejected by risk');
    deps.bus.publish({ type: 'RiskAlert', severity, code, message, atMs: nowMs, intent, strategyId: intent.strategyId, symbol: intent.symbol });
    tellStrategy(ctx, intent.strategyId, { type: 'OrderEvent', event: { type: 'IntentRejected', intentId: intent.intentId, symbol: intent.symbol, reason: message, code } });
  };

  const enqueue = (ctx: ActorContext<RiskManagerCommand>, intent: OrderIntent, clientOrderId: string, rejection: RiskManagerRejection, nowMs: number): void => {
    const committed = manager.committedQuantity(intent.portfolioId, intent.symbol);
    const exit = (intent.side === 'SELL' && committed > 0) || (intent.side === 'BUY' && committed < 0);
    queue.push({ intent, clientOrderId, exit, queuedAtMs: nowMs });
    deps.metrics.pacedIntents.inc({ kind: exit ? 'exit' : 'entry' });
    deps.metrics.pacedQueueDepth.set(queue.size);
    const reason = `${rejection.message}; queued as ${exit ? 'an exit' : 'an entry'}, sent when the window allows`;
    tellStrategy(ctx, intent.strategyId, { type: 'IntentPaced', intentId: intent.intentId, symbol: intent.symbol, reason, atMs: nowMs });
  };

  /** Drops stale entries, then sends on what the windows allow now (exits first). */
  const releasePaced = (state: RiskManagerState, ctx: ActorContext<RiskManagerCommand>, nowMs: number): void => {
    if (queue.size === 0 || nowMs <= lastReleaseAtMs) return;
    lastReleaseAtMs = nowMs;
    for (const stale of queue.expire(nowMs)) {
      const { intent } = stale;
      deps.metrics.pacedExpired.inc();
      const waitedS = ((nowMs - stale.queuedAtMs) / 1000).toFixed(1);
      refuse(
        state,
        ctx,
        intent,
        PACING_EXPIRED,
        `${intent.side} ${intent.quantity} ${intent.symbol} (intent ${intent.intentId}) waited ${waitedS} s for the order rate limit and was dropped as stale (entries wait at most ${queue.maxEntryWaitMs / 1000} s; exits always go)`,
        'warning',
        nowMs,
      );
    }
    queue.release((paced: PacedIntent) => {
      const { intent, clientOrderId } = paced;
      const wasKilled = manager.killSwitch !== undefined;
      const verdict = manager.evaluate(intent, nowMs, deps.cache.lastPrice(intent.symbol));
      if (verdict.approved) {
        deps.metrics.pacedReleased.inc();
        tellStrategy(ctx, intent.strategyId, { type: 'IntentReleased', intentId: intent.intentId, atMs: nowMs });
        place(state, ctx, intent, clientOrderId, nowMs, true);
        return 'done';
      }
      const { rejection } = verdict;
      if (rejection.code === 'max-orders-per-second-strategy') return 'held';
      if (rejection.code === 'max-orders-per-second') return 'stop';
      if (!wasKilled && manager.killSwitch) haltTrading(manager.killSwitch, ctx);
      refuse(state, ctx, intent, rejection.code, rejection.message, rejection.severity, nowMs);
      return 'done';
    });
    deps.metrics.pacedQueueDepth.set(queue.size);
  };

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
      queue = new PacingQueue(deps.maxPacedEntryWaitMs);
      lastReleaseAtMs = Number.NEGATIVE_INFINITY;
      const encoded = restored as unknown as EncodedState | undefined;
      // no snapshot, or one of the minimal gate's shape (before the risk manager): start a fresh book
      if (!encoded || encoded.manager === undefined) return { approved: encoded?.approved ?? 0, rejected: encoded?.rejected ?? 0, day: '' };
      manager.restore(encoded.manager);
      // a queued intent sent again after a restart is harmless: execution ignores a repeated client order id
      queue.restore(encoded.paced ?? []);
      deps.metrics.pacedQueueDepth.set(queue.size);
      return { approved: encoded.approved, rejected: encoded.rejected, day: encoded.day };
    },
    snapshot: {
      codec: {
        version: 1,
        encode: (state) => ({ approved: state.approved, rejected: state.rejected, day: state.day, manager: manager.encode(), paced: queue.encode() }) satisfies EncodedState as unknown as Json,
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
          // what waited goes first: a new intent never overtakes the queue
          releasePaced(state, ctx, nowMs);
          // marks are fresh already: the symbol actors' Marks reach this mailbox before the
          // intents their ticks caused (per-actor FIFO across inlets and tells)
          const wasKilled = manager.killSwitch !== undefined;
          const verdict = manager.evaluate(intent, nowMs, deps.cache.lastPrice(intent.symbol));
          if (!verdict.approved) {
            const { rejection } = verdict;
            if (isPacing(rejection) && !message.replyTo) {
              enqueue(ctx, intent, clientOrderId, rejection, nowMs);
              return state;
            }
            if (!wasKilled && manager.killSwitch) haltTrading(manager.killSwitch, ctx);
            refuse(state, ctx, intent, rejection.code, rejection.message, rejection.severity, nowMs);
            if (message.replyTo) ctx.system.tell(message.replyTo, { approved: false, rejection });
            return state;
          }
          place(state, ctx, intent, clientOrderId, nowMs);
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
          releasePaced(state, ctx, nowMs);
          return state;
        }
        case 'OrderClosed':
          manager.onOrderClosed(message.portfolioId, message.symbol, message.signedRemainder);
          releasePaced(state, ctx, deps.clock.nowMs());
          return state;
        case 'Marks': {
          const nowMs = deps.clock.nowMs();
          rollDay(state, nowMs);
          for (const tick of message.ticks) {
            const trip = manager.onMark(tick.symbol, tick.ltpPaise, nowMs);
            if (trip) haltTrading(trip, ctx);
          }
          releasePaced(state, ctx, nowMs);
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
        case 'EngageKillSwitch': {
          const trip = manager.engageKillSwitch(message.requestedBy, message.reason, deps.clock.nowMs());
          if (trip) haltTrading(trip, ctx);
          if (message.replyTo) ctx.system.tell(message.replyTo, trip !== undefined);
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
            paced: queue.list().map(({ intent, exit, queuedAtMs }) => ({ intentId: intent.intentId, strategyId: intent.strategyId, symbol: intent.symbol, side: intent.side, quantity: intent.quantity, exit, queuedAtMs })),
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
