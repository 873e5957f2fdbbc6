/**
 * The execution actor: one for every venue (`/execution/paper`, `/execution/kite`). It owns the
 * order state machine (the latest version of each order, duplicates by client order id), the
 * journal pipeline (journal first, then act) and the reporting of outcomes to strategies, risk,
 * portfolios and the bus. The venue sits behind a {@link BrokerPort} adapter that only
 * translates (`src/brokers/paper`, `src/brokers/kite`).
 *
 * Journal mode (`deps.journal`): an approved order is appended (`OrderPlaced`) and only sent to
 * the broker once the append is durable; broker events (order updates, fills) are appended as
 * they happen, batched (at most one append in flight; what arrives meanwhile goes in the next
 * one), and reported onward only once durable. While the journal fails, new orders are refused
 * (fail closed, with a RiskAlert), market data keeps flowing, and the events waiting are retried
 * until it is back. The outbox is part of the state (never of the snapshot). Without a journal
 * (backtests, benchmarks) everything happens synchronously.
 */
import { performance } from 'node:perf_hooks';
import type { ActorContext, ActorRef, ActorSystem, Behavior } from '../core/index.js';
import type { BrokerEvent, BrokerIO, BrokerPort, OrderChange } from './broker-port.js';
import { assertNever, AUTO_SQUARE_OFF_REASON, isTerminal, type Fill, type Instrument, type Order, type OrderStatus, type Tick } from '../../model/index.js';
import type { StrategyOrderEvent } from '../../strategies/api.js';
import type { PortfolioCommand } from '../portfolio/portfolio.protocol.js';
import type { StrategyCommand } from '../strategy/strategy.protocol.js';
import type { RiskOutcome } from '../risk/risk.protocol.js';
import type { Directory } from '../directory.js';
import type { EventBus } from '../../observability/event-bus.js';
import { orderLogFields, type Logger } from '../../observability/logger.js';
import { LOG_DATASETS } from '../../observability/log-fields.js';
import type { Metrics } from '../../observability/metrics.js';
import { toJournalEntry, type Journal, type OrderJournalEntry } from '../journal.js';
import type { ExecutionCommand, ExecutionMessage, JournalItem } from './execution.protocol.js';
import { decodeExecutionOrders } from './execution.snapshot.js';
import { rememberOrder, type SessionOrders } from './session-orders.js';

export { KEEP_FINISHED_ORDERS } from './execution.snapshot.js';

/** Dependencies of {@link executionBehavior}. */
export interface ExecutionActorDeps<S, V> {
  /** The venue adapter. */
  readonly broker: BrokerPort<S, V>;
  readonly directory: Directory;
  readonly bus: EventBus;
  readonly metrics: Metrics;
  readonly clock: { nowMs(): number };
  readonly instruments: ReadonlyMap<string, Instrument>;
  readonly log: Logger;
  /** Called with the tick-to-order latency in microseconds of every order that carries its trigger time. */
  readonly onOrderLatencyUs?: (latencyUs: number) => void;
  /** Journal before acting (see the module notes); without it everything happens synchronously. */
  readonly journal?: Journal;
  /** Backoff between journal retries while it is down; default 50 ms .. 1 s. */
  readonly journalRetryMs?: { readonly min: number; readonly max: number };
  /** Told whenever the journal goes down (false) or comes back (true): health. */
  readonly onJournalHealth?: (healthy: boolean) => void;
}

/** Journal-mode bookkeeping: in the state, never in a snapshot (what is not durable yet was never acted on). */
export interface JournalOutbox {
  queue: JournalItem[];
  inFlight: boolean;
  healthy: boolean;
  retryScheduled: boolean;
  retryDelayMs: number;
  /** Client order ids appended (or being appended) but not yet acted on: duplicates too. */
  readonly pending: Set<string>;
  /** While durable items are acted on: the events they cause, journaled next, ahead of the rest. */
  acting: BrokerEvent[] | undefined;
}

/** The execution actor's state: the orders of the session, the outbox and the venue adapter's own state. */
export interface ExecutionState<S> extends SessionOrders {
  readonly outbox: JournalOutbox;
  readonly venue: S;
}

/**
 * A journal request (append, or the probe read while it is down) timed into
 * `troupe_dependency_latency_seconds{dependency="journal"}`; a failure also counts in
 * `troupe_journal_append_failures_total`.
 */
export function measuredJournalRequest<T>(work: Promise<T>, metrics: Metrics): Promise<T> {
  const startedMs = performance.now();
  const observe = (): void => metrics.dependencyLatencySeconds.observe({ dependency: 'journal' }, (performance.now() - startedMs) / 1000);
  return work.then(
    (value) => {
      observe();
      return value;
    },
    (error: unknown) => {
      observe();
      metrics.journalAppendFailures.inc();
      throw error;
    },
  );
}

const signed = (order: Order, quantity: number): number => (order.side === 'BUY' ? quantity : -quantity);

/**
 * Why a modification cannot be applied to `order`, if it cannot (any broker): the order must be
 * working; a new quantity must stay above what is filled and not grow (more needs a new order
 * through risk) and be a lot multiple; prices must fit the order type and the tick size.
 */
export function orderChangeProblem(order: Order | undefined, change: OrderChange, instrument: Instrument | undefined): string | undefined {
  if (order === undefined) return 'unknown order';
  if (isTerminal(order.status)) return `order is ${order.status}`;
  if (change.quantity === undefined && change.limitPricePaise === undefined && change.triggerPricePaise === undefined) return 'nothing to change';
  if (change.quantity !== undefined) {
    if (!Number.isSafeInteger(change.quantity) || change.quantity <= order.filledQuantity)
      return `quantity must be a whole number above the ${order.filledQuantity} already filled`;
    if (change.quantity > order.quantity) return 'a larger quantity needs a new order (through risk)';
    if (instrument !== undefined && change.quantity % instrument.lotSize !== 0) return `quantity must be a multiple of the lot size ${instrument.lotSize}`;
  }
  for (const [name, value, allowed] of [
    ['limit price', change.limitPricePaise, order.orderType === 'LIMIT' || order.orderType === 'SL'],
    ['trigger price', change.triggerPricePaise, order.orderType === 'SL' || order.orderType === 'SL-M'],
  ] as const) {
    if (value === undefined) continue;
    if (!allowed) return `a ${order.orderType} order has no ${name}`;
    if (!Number.isSafeInteger(value) || value <= 0) return `${name} must be a positive whole number of paise`;
    if (instrument !== undefined && value % instrument.tickSizePaise !== 0)
      return `${name} must be a multiple of the tick size (${instrument.tickSizePaise} paise)`;
  }
  return undefined;
}

/** What reporting broker outcomes needs (the execution actor's deps are one). */
export interface OutcomeReporting {
  readonly directory: Directory;
  readonly bus: EventBus;
  readonly metrics: Metrics;
  readonly log: Logger;
}

/**
 * What one batch of broker events sends on to portfolios, strategies and risk, gathered so that
 * each gets one message in the batch's order, and what it adds to the order and fill counters.
 */
class Outbound {
  private readonly fills: [ActorRef<PortfolioCommand>, Fill[]][] = [];
  private readonly events: [ActorRef<StrategyCommand>, StrategyOrderEvent[]][] = [];
  private readonly outcomes: RiskOutcome[] = [];
  private readonly statuses: { readonly status: OrderStatus; count: number }[] = [];
  private fillCount = 0;

  /** A fill, counted whether or not its portfolio is known (an unknown one is logged by the caller). */
  fill(portfolio: ActorRef<PortfolioCommand> | undefined, fill: Fill): void {
    this.fillCount += 1;
    if (portfolio) listFor(this.fills, portfolio).push(fill);
  }

  event(strategy: ActorRef<StrategyCommand>, event: StrategyOrderEvent): void {
    listFor(this.events, strategy).push(event);
  }

  outcome(outcome: RiskOutcome): void {
    this.outcomes.push(outcome);
  }

  /** An order reached `status` (counted once per batch: a labelled increment hashes its labels each time). */
  status(status: OrderStatus): void {
    for (const entry of this.statuses) {
      if (entry.status !== status) continue;
      entry.count += 1;
      return;
    }
    this.statuses.push({ status, count: 1 });
  }

  send(system: ActorSystem, directory: Directory, metrics: Metrics): void {
    if (this.fillCount > 0) metrics.fills.inc(this.fillCount);
    for (const { status, count } of this.statuses) metrics.orders.inc({ status }, count);
    const { outcomes } = this;
    if (outcomes.length > 0 && directory.risk) system.tell(directory.risk, outcomes.length === 1 ? outcomes[0]! : { type: 'Outcomes', outcomes });
    for (const [portfolio, fills] of this.fills)
      system.tell(portfolio, fills.length === 1 ? { type: 'ApplyFill', fill: fills[0]! } : { type: 'ApplyFills', fills });
    for (const [strategy, events] of this.events)
      system.tell(strategy, events.length === 1 ? { type: 'OrderEvent', event: events[0]! } : { type: 'OrderEvents', events });
  }
}

/** The list kept for `ref` (a batch reaches one or two actors: a linear search beats a Map). */
function listFor<R, T>(lists: [R, T[]][], ref: R): T[] {
  for (const [key, list] of lists) if (key === ref) return list;
  const list: T[] = [];
  lists.push([ref, list]);
  return list;
}

function reportOrderUpdated(order: Order, deps: OutcomeReporting, out: Outbound): void {
  const { directory, bus } = deps;
  out.status(order.status);
  // one immutable object serves the bus and the strategy (the two event types have the same shape)
  const updated = { type: 'OrderUpdated', order } as const;
  bus.publish(updated);
  const strategy = directory.strategies.get(order.strategyId);
  if (strategy) out.event(strategy, updated);
  if (isTerminal(order.status)) {
    out.outcome({
      type: 'OrderClosed',
      portfolioId: order.portfolioId,
      symbol: order.symbol,
      signedRemainder: signed(order, order.quantity - order.filledQuantity),
    });
  }
  if (order.status === 'REJECTED') deps.log.warn({ ...orderLogFields(order), reason: order.statusMessage }, 'order rejected by the broker');
}

function reportFill(event: Extract<BrokerEvent, { kind: 'fill' }>, deps: OutcomeReporting, out: Outbound): void {
  const { directory, bus, metrics } = deps;
  const { fill, order } = event;
  metrics.orderTimeToFillSeconds.observe(Math.max(0, fill.atMs - order.createdAtMs) / 1000);
  // built only when written: at an order rate of thousands a second the unwritten line's object is most of this function's garbage
  if (deps.log.isLevelEnabled('info'))
    deps.log.info(
      { ...orderLogFields(order), fillId: fill.fillId, fillQuantity: fill.quantity, pricePaise: fill.pricePaise, chargesPaise: fill.chargesPaise },
      'order filled',
    );
  if (order.status === 'COMPLETE') out.status('COMPLETE');
  const portfolio = directory.portfolios.get(fill.portfolioId);
  out.fill(portfolio, fill);
  if (!portfolio) deps.log.error({ ...orderLogFields(order), fillId: fill.fillId }, 'fill for an unknown portfolio');
  out.outcome({
    type: 'FillApplied',
    portfolioId: fill.portfolioId,
    symbol: fill.symbol,
    signedQuantity: signed(order, fill.quantity),
    pricePaise: fill.pricePaise,
    chargesPaise: fill.chargesPaise,
    // risk never reserved the broker's own square-off orders: their fills move the position only
    unreserved: order.reason === AUTO_SQUARE_OFF_REASON || undefined,
  });
  const filled = { type: 'OrderFilled', fill, order } as const;
  const strategy = directory.strategies.get(order.strategyId);
  if (strategy) out.event(strategy, filled);
  bus.publish(filled);
}

/**
 * Tells everyone concerned what a broker reported: the strategy (its order events), risk (fills
 * and closed orders move exposure), the portfolio (fills), the event bus and metrics.
 */
export function reportBrokerEvents(events: readonly BrokerEvent[], deps: OutcomeReporting, system: ActorSystem): void {
  const out = new Outbound();
  gatherBrokerEvents(events, deps, out);
  out.send(system, deps.directory, deps.metrics);
}

/** What {@link reportBrokerEvents} does, gathered into `out` (sent by the caller, with what else it gathers). */
function gatherBrokerEvents(events: readonly BrokerEvent[], deps: OutcomeReporting, out: Outbound): void {
  for (const event of events) {
    switch (event.kind) {
      case 'order-updated':
        reportOrderUpdated(event.order, deps, out);
        break;
      case 'fill':
        reportFill(event, deps, out);
        break;
      case 'cancel-rejected':
        deps.log.warn({ 'event.dataset': LOG_DATASETS.orders, clientOrderId: event.clientOrderId, reason: event.reason }, 'cancel refused');
        break;
      case 'auto-square-off': {
        // the broker's safety net: reported loudly (the strategy should have exited before the cut-off)
        const { kind: _kind, ...details } = event;
        deps.metrics.autoSquareOffOrders.inc(event.orders.length);
        deps.log.warn(
          details,
          `auto square-off: the broker closes ${event.quantity} ${event.symbol} (MIS) of ${event.strategyId} at the intraday cut-off in ${event.orders.length} order(s)`,
        );
        deps.bus.publish({ type: 'AutoSquareOff', ...details });
        break;
      }
      default:
        assertNever(event, 'broker event');
    }
  }
}

function entriesOf(item: JournalItem): OrderJournalEntry[] {
  if (item.kind === 'place') return [{ type: 'OrderPlaced', order: item.order }];
  const entries: OrderJournalEntry[] = [];
  for (const event of item.events) {
    if (event.kind === 'order-updated') entries.push({ type: 'OrderUpdated', order: event.order });
    else if (event.kind === 'fill') entries.push({ type: 'Fill', fill: event.fill, order: event.order });
  }
  return entries;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** A fresh outbox. */
export function freshOutbox(retryDelayMs = 50): JournalOutbox {
  return { queue: [], inFlight: false, healthy: true, retryScheduled: false, retryDelayMs, pending: new Set(), acting: undefined };
}

type Ctx<V> = ActorContext<ExecutionMessage<V>>;

/** The order book half of the actor: orders, reporting, refusals, and the {@link BrokerIO} adapters see. */
function orderBook<S, V>(deps: ExecutionActorDeps<S, V>, flush: (state: ExecutionState<S>, ctx: Ctx<V>) => void) {
  const { broker } = deps;
  const alert = (code: string, severity: 'info' | 'warning' | 'critical', message: string, order?: Order): void => {
    deps.bus.publish({
      type: 'RiskAlert',
      severity,
      code,
      message,
      atMs: deps.clock.nowMs(),
      ...(order ? { strategyId: order.strategyId, symbol: order.symbol } : {}),
    });
  };

  const remember = (state: ExecutionState<S>, order: Order): void => {
    const forgotten = rememberOrder(state, order);
    if (forgotten !== undefined) for (const gone of forgotten) broker.forget(state.venue, gone);
  };

  /** While {@link together} runs: where reports gather, sent once when it ends. */
  let gathering: Outbound | undefined;
  const report = (events: readonly BrokerEvent[], ctx: Ctx<V>): void => {
    if (gathering === undefined) reportBrokerEvents(events, deps, ctx.system);
    else gatherBrokerEvents(events, deps, gathering);
  };
  /**
   * Runs `work` (one message's worth of placements or market data) with its reports gathered, then
   * sends them: each strategy, portfolio and risk gets one message in the order the events happened,
   * instead of one per placement or per symbol's ticks. Nobody else's messages can come between
   * (the actor runs alone), so what each recipient sees is unchanged.
   */
  const together = (ctx: Ctx<V>, work: () => void): void => {
    if (gathering !== undefined) return work();
    const out = new Outbound();
    gathering = out;
    try {
      work();
    } finally {
      gathering = undefined;
      out.send(ctx.system, deps.directory, deps.metrics);
    }
  };

  /** What happened at the venue: the state moves at once; everyone else hears of it once durable. */
  const emit = (state: ExecutionState<S>, events: readonly BrokerEvent[], ctx: Ctx<V>): void => {
    if (events.length === 0) return;
    for (const event of events) if (event.kind === 'order-updated' || event.kind === 'fill') remember(state, event.order);
    if (deps.journal === undefined) return report(events, ctx);
    const { outbox } = state;
    if (outbox.acting !== undefined) {
      outbox.acting.push(...events);
      return;
    }
    outbox.queue.push({ kind: 'events', events });
    flush(state, ctx);
  };

  const modifyRefused = (clientOrderId: string, reason: string, order: Order | undefined): void => {
    deps.log.warn({ clientOrderId, reason }, 'modification refused');
    alert('modify-rejected', 'info', `modification of ${clientOrderId} refused: ${reason}`, order);
  };

  let cached: { state: ExecutionState<S>; ctx: Ctx<V>; io: BrokerIO<V> } | undefined;
  /** The IO the adapter sees (built once per state and context). */
  const io = (state: ExecutionState<S>, ctx: Ctx<V>): BrokerIO<V> => {
    if (cached?.state === state && cached.ctx === ctx) return cached.io;
    const value: BrokerIO<V> = {
      nowMs: () => deps.clock.nowMs(),
      order: (clientOrderId) => state.orders.get(clientOrderId),
      orders: () => state.orders.values(),
      remember: (order) => remember(state, order),
      emit: (events) => emit(state, events, ctx),
      modified(order, newQuantity, events) {
        // a lower quantity frees risk's reservation of the difference
        const released = order.quantity - newQuantity;
        if (released > 0 && deps.directory.risk) {
          ctx.system.tell(deps.directory.risk, {
            type: 'OrderClosed',
            portfolioId: order.portfolioId,
            symbol: order.symbol,
            signedRemainder: signed(order, released),
          });
        }
        emit(state, events, ctx);
      },
      modifyRefused,
      later: (work, message) => ctx.pipeToSelf(work, (result) => ({ type: 'Venue', message: message(result) })),
      alert: (code, severity, message) => alert(code, severity, message),
    };
    cached = { state, ctx, io: value };
    return value;
  };

  /** An approved order that will not be placed: the strategy hears why, risk releases its reservation. */
  const refuse = (state: ExecutionState<S>, order: Order, reason: string, ctx: Ctx<V>): void => {
    state.outbox.pending.delete(order.clientOrderId);
    deps.log.warn({ ...orderLogFields(order), reason }, 'order refused (not placed)');
    deps.metrics.orders.inc({ status: 'REFUSED' });
    const strategy = deps.directory.strategies.get(order.strategyId);
    if (strategy) ctx.system.tell(strategy, { type: 'OrderEvent', event: { type: 'IntentRejected', intentId: order.intentId, symbol: order.symbol, reason } });
    if (deps.directory.risk) {
      ctx.system.tell(deps.directory.risk, {
        type: 'OrderClosed',
        portfolioId: order.portfolioId,
        symbol: order.symbol,
        signedRemainder: signed(order, order.quantity),
      });
    }
  };

  const observeLatency = (triggerReceivedMonoMs: number | undefined): void => {
    if (triggerReceivedMonoMs === undefined) return;
    const latencyUs = (performance.now() - triggerReceivedMonoMs) * 1000;
    deps.metrics.tickToOrderSeconds.observe(latencyUs / 1e6);
    deps.onOrderLatencyUs?.(latencyUs);
  };

  /** An admitted (in journal mode: durable) order goes to the venue. */
  const act = (state: ExecutionState<S>, order: Order, ctx: Ctx<V>): void => {
    remember(state, order);
    deps.bus.publish({ type: 'OrderSubmitted', order });
    if (deps.log.isLevelEnabled('info')) deps.log.info(orderLogFields(order), 'order placed');
    broker.place(state.venue, order, io(state, ctx));
  };

  const modify = (state: ExecutionState<S>, clientOrderId: string, change: OrderChange, ctx: Ctx<V>): void => {
    const order = state.orders.get(clientOrderId);
    const venueProblem = order !== undefined && !isTerminal(order.status) ? broker.modifyProblem(state.venue, order) : undefined;
    const problem = venueProblem ?? orderChangeProblem(order, change, order === undefined ? undefined : deps.instruments.get(order.symbol));
    if (problem !== undefined || order === undefined) return modifyRefused(clientOrderId, problem ?? 'unknown order', order);
    broker.modify(state.venue, order, change, io(state, ctx));
  };

  return { alert, remember, report, together, io, refuse, observeLatency, act, modify };
}

/** The journal pipeline: journal first, then act. */
function journalPipeline<S, V>(deps: ExecutionActorDeps<S, V>, journal: Journal) {
  const retry = deps.journalRetryMs ?? { min: 50, max: 1000 };
  const flush = (state: ExecutionState<S>, ctx: Ctx<V>): void => {
    const { outbox } = state;
    if (outbox.inFlight || outbox.retryScheduled) return;
    if (outbox.queue.length === 0 && outbox.healthy) return;
    const batch = outbox.queue;
    outbox.queue = [];
    outbox.inFlight = true;
    const entries = batch.flatMap(entriesOf).map((entry) => toJournalEntry(deps.broker.stream, entry));
    // down and nothing to write: probe with a read so we notice when it is back
    const work = measuredJournalRequest(
      entries.length > 0 ? journal.append(entries) : journal.readAfter(Number.MAX_SAFE_INTEGER, { limit: 1 }).then(() => []),
      deps.metrics,
    );
    ctx.pipeToSelf(work, (result) => ({ type: 'JournalAppended', batch, result }));
  };
  const book = orderBook(deps, flush);

  const place = (state: ExecutionState<S>, order: Order, triggerReceivedMonoMs: number | undefined, ctx: Ctx<V>): void => {
    const { outbox } = state;
    if (state.orders.has(order.clientOrderId) || outbox.pending.has(order.clientOrderId)) {
      // a restarted strategy may repeat an id the journal already has: it must hear it is not placed
      deps.log.warn(orderLogFields(order), 'duplicate order ignored (already placed)');
      return book.refuse(state, order, `Client order id ${order.clientOrderId} was already used.`, ctx);
    }
    if (!outbox.healthy) {
      book.refuse(state, order, 'The order journal is unavailable: new orders are refused until it is back.', ctx);
      return book.alert('journal-unavailable', 'critical', `order ${order.clientOrderId} refused: the order journal is unavailable`, order);
    }
    outbox.pending.add(order.clientOrderId);
    outbox.queue.push(triggerReceivedMonoMs === undefined ? { kind: 'place', order } : { kind: 'place', order, triggerReceivedMonoMs });
    flush(state, ctx);
  };

  const failed = (state: ExecutionState<S>, batch: readonly JournalItem[], error: unknown, ctx: Ctx<V>): void => {
    const { outbox } = state;
    if (outbox.healthy) {
      outbox.healthy = false;
      deps.onJournalHealth?.(false);
      deps.log.error({ err: error }, 'the order journal is unavailable: new orders are refused (fail closed); market data keeps flowing');
      book.alert(
        'journal-unavailable',
        'critical',
        `the order journal is unavailable (${error instanceof Error ? error.message : String(error)}): new orders are refused until it is back`,
      );
    }
    // orders not yet durable are refused; broker events (already happened) wait and are retried in order
    const waiting: JournalItem[] = [];
    for (const item of [...batch, ...outbox.queue]) {
      if (item.kind === 'place') book.refuse(state, item.order, 'The order journal is unavailable: the order was not placed.', ctx);
      else waiting.push(item);
    }
    outbox.queue = waiting;
    outbox.retryScheduled = true;
    ctx.pipeToSelf(delay(outbox.retryDelayMs), () => ({ type: 'JournalRetry' }));
    outbox.retryDelayMs = Math.min(retry.max, outbox.retryDelayMs * 2);
  };

  const appended = (state: ExecutionState<S>, batch: readonly JournalItem[], ctx: Ctx<V>): void => {
    const { outbox } = state;
    if (!outbox.healthy) {
      outbox.healthy = true;
      outbox.retryDelayMs = retry.min;
      deps.onJournalHealth?.(true);
      deps.log.info('the order journal is back: orders are accepted again');
      book.alert('journal-recovered', 'info', 'the order journal is back: orders are accepted again');
    }
    const followUps: BrokerEvent[] = [];
    outbox.acting = followUps;
    try {
      for (const item of batch) {
        if (item.kind === 'events') {
          book.report(item.events, ctx);
          continue;
        }
        // durable: now (and only now) the order goes to the broker
        outbox.pending.delete(item.order.clientOrderId);
        book.observeLatency(item.triggerReceivedMonoMs);
        book.act(state, item.order, ctx);
      }
    } finally {
      outbox.acting = undefined;
    }
    if (followUps.length > 0) outbox.queue.unshift({ kind: 'events', events: followUps });
    flush(state, ctx);
  };

  return { ...book, flush, place, failed, appended, retryMs: retry };
}

/** Without a journal: everything at once (backtests, benchmarks). */
function directPipeline<S, V>(deps: ExecutionActorDeps<S, V>) {
  const book = orderBook(deps, () => undefined);
  const place = (state: ExecutionState<S>, order: Order, triggerReceivedMonoMs: number | undefined, ctx: Ctx<V>): void => {
    book.observeLatency(triggerReceivedMonoMs);
    if (state.orders.has(order.clientOrderId)) {
      deps.log.warn(orderLogFields(order), 'duplicate order ignored (already placed)');
      return;
    }
    book.act(state, order, ctx);
  };
  return { ...book, flush: () => undefined, place, failed: () => undefined, appended: () => undefined, retryMs: { min: 50, max: 1000 } };
}

/**
 * The execution actor's behavior over a venue adapter. Places approved orders (once per client
 * order id), hands cancels, modifications, market data and the venue's own messages to the
 * adapter, and tells everyone concerned what happened (journal first, in journal mode).
 */
export function executionBehavior<S, V>(deps: ExecutionActorDeps<S, V>): Behavior<ExecutionMessage<V>, ExecutionState<S>> {
  const { broker } = deps;
  const mode = deps.journal === undefined ? directPipeline(deps) : journalPipeline(deps, deps.journal);
  const fresh = (venue: S, orders: Map<string, Order>, finished: string[]): ExecutionState<S> => ({
    orders,
    finished,
    venue,
    outbox: freshOutbox(mode.retryMs.min),
  });

  return {
    kind: broker.venue === 'paper' ? 'execution' : `execution-${broker.venue}`,
    initial(ctx, restored) {
      const state = restored ?? fresh(broker.initial(), new Map(), []);
      broker.started(state.venue, restored !== undefined, mode.io(state, ctx));
      return state;
    },
    snapshot: {
      codec: {
        version: 1,
        // orders are JSON-safe data (`Order`), typed as JSON without a copy
        encode: (state) => ({ orders: [...state.orders.values()] as never, finished: [...state.finished], ...broker.encode(state.venue) }),
        decode(json) {
          const { orders, finished } = decodeExecutionOrders(json);
          return fresh(broker.decode(json), new Map(orders.map((order) => [order.clientOrderId, order])), finished);
        },
      },
      everyMessages: broker.snapshotEveryMessages,
      everyMs: 1000,
    },
    receive(state, message, ctx) {
      switch (message.type) {
        case 'PlaceOrder':
          mode.place(state, message.order, message.triggerReceivedMonoMs, ctx);
          return state;
        case 'PlaceOrders':
          mode.together(ctx, () => {
            for (const { order, triggerReceivedMonoMs } of message.orders) mode.place(state, order, triggerReceivedMonoMs, ctx);
          });
          return state;
        case 'CancelOrder':
          broker.cancel(state.venue, message.clientOrderId, state.orders.get(message.clientOrderId), mode.io(state, ctx));
          return state;
        case 'ModifyOrder':
          mode.modify(state, message.clientOrderId, message.change, ctx);
          return state;
        case 'MarketData':
          mode.together(ctx, () => {
            for (const batch of message.batches) broker.marketData(state.venue, batch, mode.io(state, ctx));
          });
          return state;
        case 'GetOrders':
          ctx.system.tell(message.replyTo, [...state.orders.values()]);
          return state;
        case 'OrderPostback':
          broker.postback(state.venue, message.payload, mode.io(state, ctx));
          return state;
        case 'PollOrders':
          broker.poll(state.venue, message.reason, mode.io(state, ctx));
          return state;
        case 'SessionRenewed':
          broker.sessionRenewed(state.venue, mode.io(state, ctx));
          return state;
        case 'Venue':
          broker.receive(state.venue, message.message, mode.io(state, ctx));
          return state;
        case 'JournalAppended':
          state.outbox.inFlight = false;
          if (message.result.ok) mode.appended(state, message.batch, ctx);
          else mode.failed(state, message.batch, message.result.error, ctx);
          return state;
        case 'JournalRetry':
          state.outbox.retryScheduled = false;
          mode.flush(state, ctx);
          return state;
        default:
          return assertNever(message, 'execution message');
      }
    },
  };
}

export const wrapExecutionTicks = (batches: readonly (readonly Tick[])[]): ExecutionCommand => ({ type: 'MarketData', batches });
