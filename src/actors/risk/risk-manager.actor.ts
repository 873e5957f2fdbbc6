import { LOG_DATASETS } from '../../observability/log-fields.js';
import { receiveByType, type ActorContext, type ActorRef, type Behavior, type HandlerMap } from '../core/index.js';
import { assertNever, DAY_MS, isTerminal, istDate, istDayStartMs, newOrder, type Instrument, type OrderIntent } from '../../model/index.js';
import { PACING_EXPIRED, PacingQueue, type PacedIntent } from '../../risk/pacing-queue.js';
import { RiskManager, type KillSwitchState, type RiskManagerLimits, type RiskManagerOptions, type RiskManagerRejection } from '../../risk/risk-manager.js';
import type { Directory } from '../directory.js';
import type { EventBus } from '../../observability/event-bus.js';
import type { MarketCache } from '../market-cache.js';
import type { Metrics } from '../../observability/metrics.js';
import type { StrategyCommand } from '../strategy/strategy.protocol.js';
import type { OrderToPlace } from '../execution/execution.protocol.js';
import type { IntentToEvaluate, RiskDecision, RiskStatus } from './risk.protocol.js';
import type { RiskFillApplied, RiskManagerCommand, RiskManagerState, RiskReport } from './risk-manager.protocol.js';
import { riskCodec } from './risk.snapshot.js';

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

/** A refusal that is only pacing: the intent is queued instead (see {@link PacingQueue}). */
const isPacing = (rejection: RiskManagerRejection): boolean =>
  rejection.code === 'max-orders-per-second' || rejection.code === 'max-orders-per-second-strategy';

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
  const actor = new RiskActor(deps);
  const handlers = riskHandlers(actor);
  return {
    kind: 'risk',
    initial: (_ctx, restored) => actor.reset(restored),
    snapshot: { codec: riskCodec(() => ({ manager: actor.manager.encode(), paced: actor.queue.encode() })), everyMs: 1000 },
    receive: receiveByType(handlers),
  };
}

/** The risk actor's working parts (the book lives in `manager` and `queue`, not in the state), shared by its handlers. */
class RiskActor {
  readonly options: RiskManagerOptions;
  manager: RiskManager;
  queue: PacingQueue;
  /** While {@link placeTogether} runs: the approved orders not yet sent to execution. */
  private placing: OrderToPlace[] | undefined;
  /** The clock time of the last release attempt: windows only open when time moves. */
  private lastReleaseAtMs = Number.NEGATIVE_INFINITY;
  // the IST day currently open, cached so that most messages skip the date arithmetic
  private dayStartMs = Number.NaN;
  private dayEndMs = Number.NaN;

  constructor(readonly deps: RiskManagerActorDeps) {
    this.options = {
      ...(deps.instrument ? { instrument: deps.instrument } : {}),
      ...(deps.squareOffMinute === undefined ? {} : { squareOffMinute: deps.squareOffMinute }),
    };
    this.manager = new RiskManager(deps.limits, this.options);
    this.queue = new PacingQueue(deps.maxPacedEntryWaitMs);
    // the kill switch and the day's P&L for alerting, read at scrape time (no cost per message)
    deps.metrics.bindRisk(() => ({
      killSwitchEngaged: this.manager.killSwitch !== undefined,
      maxDailyLossPaise: deps.limits.maxDailyLossPaise,
      portfolios: this.manager.portfolioIds().map((portfolioId) => ({ portfolioId, dayPnlPaise: this.manager.dayPnlPaise(portfolioId) })),
    }));
  }

  /** A fresh book, or the one a snapshot restores. */
  reset(restored: RiskManagerState | undefined): RiskManagerState {
    this.dayStartMs = Number.NaN;
    this.dayEndMs = Number.NaN;
    this.manager = new RiskManager(this.deps.limits, this.options);
    this.queue = new PacingQueue(this.deps.maxPacedEntryWaitMs);
    this.lastReleaseAtMs = Number.NEGATIVE_INFINITY;
    // no snapshot, or one of the minimal gate's shape (before the risk manager): start a fresh book
    if (restored?.restoredBook === undefined) return { approved: restored?.approved ?? 0, rejected: restored?.rejected ?? 0, day: '' };
    this.manager.restore(restored.restoredBook.manager);
    // a queued intent sent again after a restart is harmless: execution ignores a repeated client order id
    this.queue.restore(restored.restoredBook.paced);
    this.deps.metrics.pacedQueueDepth.set(this.queue.size);
    return { approved: restored.approved, rejected: restored.rejected, day: restored.day };
  }

  tellStrategy(ctx: ActorContext<RiskManagerCommand>, strategyId: string, message: StrategyCommand): void {
    const strategy = this.deps.directory.strategies.get(strategyId);
    if (strategy) ctx.system.tell(strategy, message);
  }

  /** Sends an approved intent to execution; `fromQueue`: it waited for pacing (its tick-to-order latency is not the pipeline's). */
  place(state: RiskManagerState, ctx: ActorContext<RiskManagerCommand>, intent: OrderIntent, clientOrderId: string, nowMs: number, fromQueue = false): void {
    state.approved += 1;
    const order = newOrder(intent, clientOrderId, nowMs);
    const item: OrderToPlace =
      intent.triggerReceivedMonoMs === undefined || fromQueue ? { order } : { order, triggerReceivedMonoMs: intent.triggerReceivedMonoMs };
    if (this.placing !== undefined) this.placing.push(item);
    else ctx.system.tell(this.deps.directory.requireExecution(), { type: 'PlaceOrder', ...item });
  }

  /**
   * Runs `work` (a batch of intents) with its approved orders gathered, then sends them to execution
   * in one message, in the order they were approved. Execution cannot run meanwhile, so it sees the
   * same orders in the same order; whatever else risk asks of execution first sends what is gathered.
   */
  placeTogether(ctx: ActorContext<RiskManagerCommand>, work: () => void): void {
    if (this.placing !== undefined) return work();
    this.placing = [];
    try {
      work();
    } finally {
      this.sendPlacements(ctx);
      this.placing = undefined;
    }
  }

  /** Sends the orders gathered so far (see {@link placeTogether}). */
  private sendPlacements(ctx: ActorContext<RiskManagerCommand>): void {
    const placing = this.placing;
    if (placing === undefined || placing.length === 0) return;
    this.placing = [];
    const execution = this.deps.directory.requireExecution();
    if (placing.length === 1) ctx.system.tell(execution, { type: 'PlaceOrder', ...placing[0]! });
    else ctx.system.tell(execution, { type: 'PlaceOrders', orders: placing });
  }

  /** A refusal: counted, a RiskAlert, an IntentRejected to the strategy. */
  refuse(
    state: RiskManagerState,
    ctx: ActorContext<RiskManagerCommand>,
    intent: OrderIntent,
    code: string,
    message: string,
    severity: 'info' | 'warning' | 'critical',
    nowMs: number,
  ): void {
    const { deps } = this;
    state.rejected += 1;
    deps.metrics.riskRejections.inc({ code });
    const fields = {
      'event.dataset': LOG_DATASETS.orders,
      intentId: intent.intentId,
      strategyId: intent.strategyId,
      portfolioId: intent.portfolioId,
      symbol: intent.symbol,
      side: intent.side,
      quantity: intent.quantity,
      code,
      reason: message,
    };
    // a stale paced intent was logged when it was queued: its expiry (hundreds a minute in a busy market) is debug detail
    if (code === PACING_EXPIRED) ctx.log.debug(fields, 'intent rejected by risk');
    else if (severity === 'info') ctx.log.info(fields, 'intent rejected by risk');
    else if (severity === 'warning') ctx.log.warn(fields, 'intent rejected by risk');
    else ctx.log.error(fields, 'intent rejected by risk');
    deps.bus.publish({ type: 'RiskAlert', severity, code, message, atMs: nowMs, intent, strategyId: intent.strategyId, symbol: intent.symbol });
    this.tellStrategy(ctx, intent.strategyId, {
      type: 'OrderEvent',
      event: { type: 'IntentRejected', intentId: intent.intentId, symbol: intent.symbol, reason: message, code },
    });
  }

  enqueue(ctx: ActorContext<RiskManagerCommand>, intent: OrderIntent, clientOrderId: string, rejection: RiskManagerRejection, nowMs: number): void {
    const committed = this.manager.committedQuantity(intent.portfolioId, intent.symbol);
    const exit = (intent.side === 'SELL' && committed > 0) || (intent.side === 'BUY' && committed < 0);
    this.queue.push({ intent, clientOrderId, exit, queuedAtMs: nowMs });
    this.deps.metrics.pacedIntents.inc({ kind: exit ? 'exit' : 'entry' });
    this.deps.metrics.pacedQueueDepth.set(this.queue.size);
    const reason = `${rejection.message}; queued as ${exit ? 'an exit' : 'an entry'}, sent when the window allows`;
    this.tellStrategy(ctx, intent.strategyId, { type: 'IntentPaced', intentId: intent.intentId, symbol: intent.symbol, reason, atMs: nowMs });
  }

  /** Drops stale entries, then sends on what the windows allow now (exits first). */
  releasePaced(state: RiskManagerState, ctx: ActorContext<RiskManagerCommand>, nowMs: number): void {
    const { deps, queue } = this;
    if (queue.size === 0 || nowMs <= this.lastReleaseAtMs) return;
    this.lastReleaseAtMs = nowMs;
    for (const stale of queue.expire(nowMs)) {
      const { intent } = stale;
      deps.metrics.pacedExpired.inc();
      const waitedS = ((nowMs - stale.queuedAtMs) / 1000).toFixed(1);
      this.refuse(
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
      const wasKilled = this.manager.killSwitch !== undefined;
      const verdict = this.manager.evaluate(intent, nowMs, deps.cache.lastPrice(intent.symbol));
      if (verdict.approved) {
        deps.metrics.pacedReleased.inc();
        this.tellStrategy(ctx, intent.strategyId, { type: 'IntentReleased', intentId: intent.intentId, atMs: nowMs });
        this.place(state, ctx, intent, clientOrderId, nowMs, true);
        return 'done';
      }
      const { rejection } = verdict;
      if (rejection.code === 'max-orders-per-second-strategy') return 'held';
      if (rejection.code === 'max-orders-per-second') return 'stop';
      if (!wasKilled && this.manager.killSwitch) this.haltTrading(this.manager.killSwitch, ctx);
      this.refuse(state, ctx, intent, rejection.code, rejection.message, rejection.severity, nowMs);
      return 'done';
    });
    deps.metrics.pacedQueueDepth.set(queue.size);
  }

  haltTrading(trip: KillSwitchState, ctx: ActorContext<RiskManagerCommand>): void {
    const { deps } = this;
    // what was approved before the trip reaches execution before the kill switch asks for its open orders
    this.sendPlacements(ctx);
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
  }

  /** A reported fill moves the position and the day's P&L (exact with price and charges), and may trip the kill switch. */
  applyFill(message: RiskFillApplied, ctx: ActorContext<RiskManagerCommand>, nowMs: number): void {
    const pricePaise = message.pricePaise ?? this.deps.cache.lastPrice(message.symbol) ?? this.manager.mark(message.symbol) ?? 0;
    const trip = this.manager.onFill(
      {
        portfolioId: message.portfolioId,
        symbol: message.symbol,
        signedQuantity: message.signedQuantity,
        pricePaise,
        // one shape for every fill (no conditional spreads on the hot path)
        chargesPaise: message.chargesPaise,
        unreserved: message.unreserved,
      },
      nowMs,
    );
    if (trip) this.haltTrading(trip, ctx);
  }

  rollDay(state: RiskManagerState, nowMs: number): void {
    if (nowMs >= this.dayStartMs && nowMs < this.dayEndMs) return;
    this.dayStartMs = istDayStartMs(nowMs);
    this.dayEndMs = this.dayStartMs + DAY_MS;
    const day = istDate(nowMs);
    if (day === state.day) return;
    if (state.day !== '') this.manager.startDay();
    state.day = day;
  }
}

/** One handler per message type of the risk manager's protocol. */
function riskHandlers(actor: RiskActor): HandlerMap<RiskManagerCommand, RiskManagerState> {
  const { deps } = actor;
  /** One intent through the gate: placed, paced (queued) or refused (with a reply when asked). */
  const evaluate = (
    state: RiskManagerState,
    message: IntentToEvaluate & { readonly replyTo?: ActorRef<RiskDecision> },
    ctx: ActorContext<RiskManagerCommand>,
  ): RiskManagerState => {
    const { intent, clientOrderId } = message;
    const nowMs = deps.clock.nowMs();
    actor.rollDay(state, nowMs);
    // what waited goes first: a new intent never overtakes the queue
    actor.releasePaced(state, ctx, nowMs);
    // marks are fresh already: the symbol actors' Marks reach this mailbox before the
    // intents their ticks caused (per-actor FIFO across inlets and tells)
    const wasKilled = actor.manager.killSwitch !== undefined;
    const verdict = actor.manager.evaluate(intent, nowMs, deps.cache.lastPrice(intent.symbol));
    if (!verdict.approved) {
      const { rejection } = verdict;
      if (isPacing(rejection) && !message.replyTo) {
        actor.enqueue(ctx, intent, clientOrderId, rejection, nowMs);
        return state;
      }
      if (!wasKilled && actor.manager.killSwitch) actor.haltTrading(actor.manager.killSwitch, ctx);
      actor.refuse(state, ctx, intent, rejection.code, rejection.message, rejection.severity, nowMs);
      if (message.replyTo) ctx.system.tell(message.replyTo, { approved: false, rejection });
      return state;
    }
    actor.place(state, ctx, intent, clientOrderId, nowMs);
    if (message.replyTo) ctx.system.tell(message.replyTo, { approved: true, clientOrderId });
    return state;
  };
  return {
    EvaluateIntent: evaluate,
    EvaluateIntents(state, message, ctx) {
      actor.placeTogether(ctx, () => {
        for (const item of message.intents) evaluate(state, item, ctx);
      });
      return state;
    },
    FillApplied(state, message, ctx) {
      const nowMs = deps.clock.nowMs();
      actor.rollDay(state, nowMs);
      actor.applyFill(message, ctx, nowMs);
      actor.releasePaced(state, ctx, nowMs);
      return state;
    },
    OrderClosed(state, message, ctx) {
      actor.manager.onOrderClosed(message.portfolioId, message.symbol, message.signedRemainder);
      actor.releasePaced(state, ctx, deps.clock.nowMs());
      return state;
    },
    Outcomes(state, message, ctx) {
      const nowMs = deps.clock.nowMs();
      actor.rollDay(state, nowMs);
      for (const outcome of message.outcomes) {
        if (outcome.type === 'FillApplied') actor.applyFill(outcome, ctx, nowMs);
        else actor.manager.onOrderClosed(outcome.portfolioId, outcome.symbol, outcome.signedRemainder);
      }
      // what the batch freed, released once (in queue order, as after each outcome)
      actor.releasePaced(state, ctx, nowMs);
      return state;
    },
    Marks(state, message, ctx) {
      const nowMs = deps.clock.nowMs();
      actor.rollDay(state, nowMs);
      for (const tick of message.ticks) {
        const trip = actor.manager.onMark(tick.symbol, tick.ltpPaise, nowMs);
        if (trip) actor.haltTrading(trip, ctx);
      }
      actor.releasePaced(state, ctx, nowMs);
      return state;
    },
    ResetKillSwitch(state, message, ctx) {
      const was = actor.manager.killSwitch;
      actor.manager.resetKillSwitch();
      if (was) {
        deps.bus.publish({
          type: 'RiskAlert',
          severity: 'info',
          code: 'kill-switch-reset',
          message: `kill switch reset by ${message.requestedBy}`,
          atMs: deps.clock.nowMs(),
        });
      }
      if (message.replyTo) ctx.system.tell(message.replyTo, true);
      return state;
    },
    EngageKillSwitch(state, message, ctx) {
      const trip = actor.manager.engageKillSwitch(message.requestedBy, message.reason, deps.clock.nowMs());
      if (trip) actor.haltTrading(trip, ctx);
      if (message.replyTo) ctx.system.tell(message.replyTo, trip !== undefined);
      return state;
    },
    StartDay(state) {
      actor.manager.startDay();
      state.day = istDate(deps.clock.nowMs());
      return state;
    },
    OpenOrdersForKillSwitch(state, message, ctx) {
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
    },
    GetStatus(state, message, ctx) {
      const status: RiskStatus = { approved: state.approved, rejected: state.rejected, exposures: actor.manager.exposureViews() };
      ctx.system.tell(message.replyTo, status);
      return state;
    },
    GetRiskReport(state, message, ctx) {
      const report: RiskReport = {
        approved: state.approved,
        rejected: state.rejected,
        killSwitch: actor.manager.killSwitch ?? null,
        paced: actor.queue.list().map(({ intent, exit, queuedAtMs }) => ({
          intentId: intent.intentId,
          strategyId: intent.strategyId,
          symbol: intent.symbol,
          side: intent.side,
          quantity: intent.quantity,
          exit,
          queuedAtMs,
        })),
        portfolios: Object.fromEntries(actor.manager.portfolioIds().map((id) => [id, actor.manager.portfolio(id)])),
      };
      ctx.system.tell(message.replyTo, report);
      return state;
    },
  };
}
