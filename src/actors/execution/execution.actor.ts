import { performance } from 'node:perf_hooks';
import type { ActorContext, ActorSystem, Behavior } from '../core/index.js';
import { PaperBroker, type BrokerEvent, type PaperBrokerConfig, type PaperBrokerSnapshot } from '../../brokers/paper/index.js';
import { assertNever, AUTO_SQUARE_OFF_REASON, isTerminal, type Instrument, type Order, type Tick } from '../../model/index.js';
import type { Directory } from '../../runtime/directory.js';
import type { EventBus } from '../../runtime/event-bus.js';
import { orderLogFields, type Logger } from '../../runtime/logger.js';
import { LOG_DATASETS } from '../../runtime/log-fields.js';
import type { Metrics } from '../../runtime/metrics.js';
import type { Journal } from '../../persistence/journal.js';
import { EXECUTION_STREAM, toJournalEntry, type OrderJournalEntry } from '../../persistence/journal-orders.js';
import type { ExecutionCommand, JournalItem, OrderChange, PaperExecutionMessage } from './execution.protocol.js';

export interface ExecutionActorDeps {
  readonly directory: Directory;
  readonly bus: EventBus;
  readonly metrics: Metrics;
  readonly clock: { nowMs(): number };
  readonly instruments: ReadonlyMap<string, Instrument>;
  readonly config: Partial<PaperBrokerConfig>;
  readonly log: Logger;
  /** Called with the tick-to-order latency in microseconds of every order that carries its trigger time. */
  readonly onOrderLatencyUs?: (latencyUs: number) => void;
  /**
   * Journal before acting. When set, an approved order is appended (`OrderPlaced`) and only
   * submitted to the broker once the append is durable; broker events (order updates, fills)
   * are appended as they happen, batched (at most one append in flight; what arrives meanwhile
   * goes in the next one), and reported onward (portfolio, risk, strategy, bus) only once
   * durable. While the journal fails, new orders are refused (fail closed, with a RiskAlert),
   * market data keeps flowing, and the events waiting are retried until it is back. Without it
   * (backtests, benchmarks) everything happens synchronously, as before.
   */
  readonly journal?: Journal;
  /** The journal stream of this actor; default {@link EXECUTION_STREAM}. */
  readonly journalStream?: string;
  /** Backoff between journal retries while it is down; default 50 ms .. 1 s. */
  readonly journalRetryMs?: { readonly min: number; readonly max: number };
  /** Told whenever the journal goes down (false) or comes back (true): health. */
  readonly onJournalHealth?: (healthy: boolean) => void;
}

/**
 * A journal request (append, or the probe read while it is down) timed into
 * `troupe_dependency_latency_seconds{dependency="journal"}`; a failure also counts in
 * `troupe_journal_append_failures_total`. Paper and Kite execution both use it.
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

/** The execution actor's state: the paper broker and the orders of the session. */
export interface ExecutionState {
  readonly broker: PaperBroker;
  /** Open orders and the most recent finished ones, by client order id (latest version). */
  readonly orders: Map<string, Order>;
  /** Finished orders, oldest first; beyond {@link KEEP_FINISHED_ORDERS} the oldest are forgotten here (the journal keeps them). */
  readonly finished: string[];
}

/** How many finished orders the actor keeps (at least; up to twice as many) for queries and duplicate detection. */
export const KEEP_FINISHED_ORDERS = 5_000;

function remember(state: ExecutionState, order: Order): void {
  const known = state.orders.get(order.clientOrderId);
  state.orders.set(order.clientOrderId, order);
  if (isTerminal(order.status) && !(known && isTerminal(known.status))) {
    state.finished.push(order.clientOrderId);
    // trimmed in chunks, so the cost is amortised (not a 5,000-element shift per order)
    if (state.finished.length >= KEEP_FINISHED_ORDERS * 2) {
      const forgotten = state.finished.splice(0, state.finished.length - KEEP_FINISHED_ORDERS);
      for (const id of forgotten) state.orders.delete(id);
    }
  }
}

interface EncodedExecution {
  broker: PaperBrokerSnapshot;
  orders: Order[];
  finished: string[];
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
    if (!Number.isSafeInteger(change.quantity) || change.quantity <= order.filledQuantity) return `quantity must be a whole number above the ${order.filledQuantity} already filled`;
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
    if (instrument !== undefined && value % instrument.tickSizePaise !== 0) return `${name} must be a multiple of the tick size (${instrument.tickSizePaise} paise)`;
  }
  return undefined;
}

/** What reporting broker outcomes needs. */
export interface OutcomeReporting {
  readonly system: ActorSystem;
  readonly directory: Directory;
  readonly bus: EventBus;
  readonly metrics: Metrics;
  readonly log: Logger;
}

/**
 * Tells everyone concerned what a broker reported, for any broker (paper or Kite): the
 * strategy (its order events), risk (fills and closed orders move exposure), the
 * portfolio (fills), the event bus and metrics. `remember` keeps the latest order.
 */
export function reportBrokerEvents(events: readonly BrokerEvent[], deps: OutcomeReporting, remember: (order: Order) => void): void {
  const { directory, bus, metrics, system } = deps;
  for (const event of events) {
    switch (event.kind) {
      case 'order-updated': {
        const order = event.order;
        remember(order);
        metrics.orders.inc({ status: order.status });
        bus.publish({ type: 'OrderUpdated', order });
        const strategy = directory.strategies.get(order.strategyId);
        if (strategy) system.tell(strategy, { type: 'OrderEvent', event: { type: 'OrderUpdated', order } });
        if (isTerminal(order.status) && directory.risk) {
          system.tell(directory.risk, {
            type: 'OrderClosed',
            portfolioId: order.portfolioId,
            symbol: order.symbol,
            signedRemainder: signed(order, order.quantity - order.filledQuantity),
          });
        }
        if (order.status === 'REJECTED') deps.log.warn({ ...orderLogFields(order), reason: order.statusMessage }, 'order rejected by the broker');
        break;
      }
      case 'fill': {
        const { fill, order } = event;
        remember(order);
        metrics.fills.inc();
        metrics.orderTimeToFillSeconds.observe(Math.max(0, fill.atMs - order.createdAtMs) / 1000);
        deps.log.info({ ...orderLogFields(order), fillId: fill.fillId, fillQuantity: fill.quantity, pricePaise: fill.pricePaise, chargesPaise: fill.chargesPaise }, 'order filled');
        if (order.status === 'COMPLETE') metrics.orders.inc({ status: 'COMPLETE' });
        const portfolio = directory.portfolios.get(fill.portfolioId);
        if (portfolio) system.tell(portfolio, { type: 'ApplyFill', fill });
        else deps.log.error({ ...orderLogFields(order), fillId: fill.fillId }, 'fill for an unknown portfolio');
        if (directory.risk) {
          system.tell(directory.risk, {
            type: 'FillApplied',
            portfolioId: fill.portfolioId,
            symbol: fill.symbol,
            signedQuantity: signed(order, fill.quantity),
            pricePaise: fill.pricePaise,
            chargesPaise: fill.chargesPaise,
            // risk never reserved the broker's own square-off orders: their fills move the position only
            ...(order.reason === AUTO_SQUARE_OFF_REASON ? { unreserved: true } : {}),
          });
        }
        const strategy = directory.strategies.get(order.strategyId);
        if (strategy) system.tell(strategy, { type: 'OrderEvent', event: { type: 'OrderFilled', order, fill } });
        bus.publish({ type: 'OrderFilled', fill, order });
        break;
      }
      case 'cancel-rejected':
        deps.log.warn({ 'event.dataset': LOG_DATASETS.orders, clientOrderId: event.clientOrderId, reason: event.reason }, 'cancel refused');
        break;
      case 'auto-square-off': {
        // the broker's safety net: reported loudly (the strategy should have exited before the cut-off)
        const { kind: _kind, ...details } = event;
        metrics.autoSquareOffOrders.inc(event.orders.length);
        deps.log.warn(details, `auto square-off: the broker closes ${event.quantity} ${event.symbol} (MIS) of ${event.strategyId} at the intraday cut-off in ${event.orders.length} order(s)`);
        bus.publish({ type: 'AutoSquareOff', ...details });
        break;
      }
      default:
        assertNever(event, 'broker event');
    }
  }
}


/** Journal-mode bookkeeping (in memory only: what is not durable yet is not in any snapshot's orders). */
interface JournalOutbox {
  queue: JournalItem[];
  inFlight: boolean;
  healthy: boolean;
  retryScheduled: boolean;
  retryDelayMs: number;
  /** Client order ids appended (or being appended) but not yet acted on: duplicates too. */
  readonly pendingIds: Set<string>;
}

function entriesOf(stream: string, item: JournalItem): OrderJournalEntry[] {
  if (item.kind === 'place') return [{ type: 'OrderPlaced', order: item.order }];
  const entries: OrderJournalEntry[] = [];
  for (const event of item.events) {
    if (event.kind === 'order-updated') entries.push({ type: 'OrderUpdated', order: event.order });
    else if (event.kind === 'fill') entries.push({ type: 'Fill', fill: event.fill, order: event.order });
  }
  void stream;
  return entries;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** The journal-mode half of the execution actor. */
function journalMode(deps: ExecutionActorDeps, journal: Journal, dispatch: (state: ExecutionState, events: readonly BrokerEvent[], ctx: ActorContext<PaperExecutionMessage>) => void) {
  const stream = deps.journalStream ?? EXECUTION_STREAM;
  const retry = deps.journalRetryMs ?? { min: 50, max: 1000 };
  let outbox: JournalOutbox = fresh();
  function fresh(): JournalOutbox {
    return { queue: [], inFlight: false, healthy: true, retryScheduled: false, retryDelayMs: retry.min, pendingIds: new Set() };
  }

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

  /** An approved order that will not be placed: the strategy hears why, risk releases its reservation. */
  const refuse = (order: Order, reason: string, ctx: ActorContext<PaperExecutionMessage>): void => {
    outbox.pendingIds.delete(order.clientOrderId);
    deps.log.warn({ ...orderLogFields(order), reason }, 'order refused (not placed)');
    deps.metrics.orders.inc({ status: 'REFUSED' });
    const strategy = deps.directory.strategies.get(order.strategyId);
    if (strategy) ctx.system.tell(strategy, { type: 'OrderEvent', event: { type: 'IntentRejected', intentId: order.intentId, symbol: order.symbol, reason } });
    if (deps.directory.risk) {
      ctx.system.tell(deps.directory.risk, { type: 'OrderClosed', portfolioId: order.portfolioId, symbol: order.symbol, signedRemainder: signed(order, order.quantity) });
    }
  };

  const flush = (ctx: ActorContext<PaperExecutionMessage>): void => {
    if (outbox.inFlight || outbox.retryScheduled) return;
    if (outbox.queue.length === 0 && outbox.healthy) return;
    const batch = outbox.queue;
    outbox.queue = [];
    outbox.inFlight = true;
    const entries = batch.flatMap((item) => entriesOf(stream, item)).map((entry) => toJournalEntry(stream, entry));
    // down and nothing to write: probe with a read so we notice when it is back
    const work = measuredJournalRequest(entries.length > 0 ? journal.append(entries) : journal.readAfter(Number.MAX_SAFE_INTEGER, { limit: 1 }).then(() => []), deps.metrics);
    ctx.pipeToSelf(work, (result) => ({ type: 'JournalAppended', batch, result }));
  };

  return {
    reset(): void {
      outbox = fresh();
    },
    isPending: (clientOrderId: string): boolean => outbox.pendingIds.has(clientOrderId),
    get healthy(): boolean {
      return outbox.healthy;
    },
    place(state: ExecutionState, order: Order, ctx: ActorContext<PaperExecutionMessage>, triggerReceivedMonoMs: number | undefined): void {
      if (state.orders.has(order.clientOrderId) || outbox.pendingIds.has(order.clientOrderId)) {
        // a restarted strategy may repeat an id the journal already has: it must hear it is not placed
        deps.log.warn(orderLogFields(order), 'duplicate order ignored (already placed)');
        refuse(order, `Client order id ${order.clientOrderId} was already used.`, ctx);
        return;
      }
      if (!outbox.healthy) {
        refuse(order, 'The order journal is unavailable: new orders are refused until it is back.', ctx);
        alert('journal-unavailable', 'critical', `order ${order.clientOrderId} refused: the order journal is unavailable`, order);
        return;
      }
      outbox.pendingIds.add(order.clientOrderId);
      outbox.queue.push(triggerReceivedMonoMs === undefined ? { kind: 'place', order } : { kind: 'place', order, triggerReceivedMonoMs });
      flush(ctx);
    },
    events(events: readonly BrokerEvent[], ctx: ActorContext<PaperExecutionMessage>): void {
      if (events.length === 0) return;
      outbox.queue.push({ kind: 'events', events });
      flush(ctx);
    },
    retry(ctx: ActorContext<PaperExecutionMessage>): void {
      outbox.retryScheduled = false;
      flush(ctx);
    },
    appended(state: ExecutionState, batch: readonly JournalItem[], ok: boolean, error: unknown, ctx: ActorContext<PaperExecutionMessage>): void {
      outbox.inFlight = false;
      if (!ok) {
        if (outbox.healthy) {
          outbox.healthy = false;
          deps.onJournalHealth?.(false);
          deps.log.error({ err: error }, 'the order journal is unavailable: new orders are refused (fail closed); market data keeps flowing');
          alert('journal-unavailable', 'critical', `the order journal is unavailable (${error instanceof Error ? error.message : String(error)}): new orders are refused until it is back`);
        }
        // orders not yet durable are refused; broker events (already happened) wait and are retried in order
        const waiting: JournalItem[] = [];
        for (const item of [...batch, ...outbox.queue]) {
          if (item.kind === 'place') refuse(item.order, 'The order journal is unavailable: the order was not placed.', ctx);
          else waiting.push(item);
        }
        outbox.queue = waiting;
        outbox.retryScheduled = true;
        ctx.pipeToSelf(delay(outbox.retryDelayMs), () => ({ type: 'JournalRetry' }));
        outbox.retryDelayMs = Math.min(retry.max, outbox.retryDelayMs * 2);
        return;
      }
      if (!outbox.healthy) {
        outbox.healthy = true;
        outbox.retryDelayMs = retry.min;
        deps.onJournalHealth?.(true);
        deps.log.info('the order journal is back: orders are accepted again');
        alert('journal-recovered', 'info', 'the order journal is back: orders are accepted again');
      }
      const followUps: BrokerEvent[] = [];
      for (const item of batch) {
        if (item.kind === 'events') {
          dispatch(state, item.events, ctx);
          continue;
        }
        // durable: now (and only now) the order goes to the broker
        const { order } = item;
        outbox.pendingIds.delete(order.clientOrderId);
        if (item.triggerReceivedMonoMs !== undefined) {
          const latencyUs = (performance.now() - item.triggerReceivedMonoMs) * 1000;
          deps.metrics.tickToOrderSeconds.observe(latencyUs / 1e6);
          deps.onOrderLatencyUs?.(latencyUs);
        }
        remember(state, order);
        deps.bus.publish({ type: 'OrderSubmitted', order });
        deps.log.info(orderLogFields(order), 'order placed');
        const instrument = deps.instruments.get(order.symbol);
        if (!instrument) {
          followUps.push({ kind: 'order-updated', order: { ...order, status: 'REJECTED', statusMessage: `Unknown instrument ${order.symbol}.`, cancelledQuantity: order.quantity } });
          continue;
        }
        followUps.push(...state.broker.submit(order, instrument, deps.clock.nowMs()));
      }
      if (followUps.length > 0) outbox.queue.unshift({ kind: 'events', events: followUps });
      flush(ctx);
    },
  };
}

/**
 * Wraps the paper broker. Places approved orders (once per client order id), matches
 * them on market data, and tells everyone concerned what happened.
 */
export function executionBehavior(deps: ExecutionActorDeps): Behavior<PaperExecutionMessage, ExecutionState> {
  const dispatch = (state: ExecutionState, events: readonly BrokerEvent[], ctx: ActorContext<PaperExecutionMessage>): void =>
    reportBrokerEvents(events, { ...deps, system: ctx.system }, (order) => remember(state, order));
  const journaled = deps.journal ? journalMode(deps, deps.journal, dispatch) : undefined;

  /** Validates and applies a modification; a refusal is logged and published as a RiskAlert. A lower quantity frees risk's reservation. */
  const modify = (state: ExecutionState, clientOrderId: string, change: OrderChange, ctx: ActorContext<PaperExecutionMessage>): readonly BrokerEvent[] => {
    const order = state.orders.get(clientOrderId);
    const problem = orderChangeProblem(order, change, order === undefined ? undefined : deps.instruments.get(order.symbol));
    const result = problem === undefined ? state.broker.modify(clientOrderId, change, deps.clock.nowMs()) : { events: [], refused: problem };
    if (result.refused !== undefined || order === undefined) {
      const reason = result.refused ?? 'unknown order';
      deps.log.warn({ clientOrderId, reason }, 'modification refused');
      deps.bus.publish({ type: 'RiskAlert', severity: 'info', code: 'modify-rejected', message: `modification of ${clientOrderId} refused: ${reason}`, atMs: deps.clock.nowMs(), ...(order ? { strategyId: order.strategyId, symbol: order.symbol } : {}) });
      return [];
    }
    const released = order.quantity - (change.quantity ?? order.quantity);
    if (released > 0 && deps.directory.risk) {
      ctx.system.tell(deps.directory.risk, { type: 'OrderClosed', portfolioId: order.portfolioId, symbol: order.symbol, signedRemainder: signed(order, released) });
    }
    return result.events;
  };

  return {
    kind: 'execution',
    initial(_ctx, restored) {
      journaled?.reset();
      return restored ?? { broker: new PaperBroker(deps.config), orders: new Map(), finished: [] };
    },
    snapshot: {
      codec: {
        version: 1,
        encode: (state) => ({ broker: state.broker.snapshot(), orders: [...state.orders.values()], finished: state.finished }) as never,
        decode(json) {
          const encoded = structuredClone(json) as unknown as EncodedExecution;
          return {
            broker: PaperBroker.restore(encoded.broker, deps.config),
            orders: new Map(encoded.orders.map((order) => [order.clientOrderId, order])),
            finished: encoded.finished,
          };
        },
      },
      everyMessages: 500,
      everyMs: 1000,
    },
    receive(state, message, ctx) {
      if (journaled) return receiveJournaled(state, message, ctx, journaled);
      switch (message.type) {
        case 'PlaceOrder': {
          const { order } = message;
          if (message.triggerReceivedMonoMs !== undefined) {
            const latencyUs = (performance.now() - message.triggerReceivedMonoMs) * 1000;
            deps.metrics.tickToOrderSeconds.observe(latencyUs / 1e6);
            deps.onOrderLatencyUs?.(latencyUs);
          }
          if (state.orders.has(order.clientOrderId)) {
            deps.log.warn(orderLogFields(order), 'duplicate order ignored (already placed)');
            return state;
          }
          const instrument = deps.instruments.get(order.symbol);
          remember(state, order);
          deps.bus.publish({ type: 'OrderSubmitted', order });
          deps.log.info(orderLogFields(order), 'order placed');
          if (!instrument) {
            dispatch(state, [{ kind: 'order-updated', order: { ...order, status: 'REJECTED', statusMessage: `Unknown instrument ${order.symbol}.`, cancelledQuantity: order.quantity } }], ctx);
            return state;
          }
          dispatch(state, state.broker.submit(order, instrument, deps.clock.nowMs()), ctx);
          return state;
        }
        case 'CancelOrder':
          dispatch(state, state.broker.cancel(message.clientOrderId, deps.clock.nowMs()), ctx);
          return state;
        case 'ModifyOrder': {
          const events = modify(state, message.clientOrderId, message.change, ctx);
          if (events.length > 0) dispatch(state, events, ctx);
          return state;
        }
        case 'MarketData':
          for (const batch of message.batches) {
            const events = state.broker.onTicks(batch);
            if (events.length > 0) dispatch(state, events, ctx);
          }
          return state;
        case 'GetOrders':
          ctx.system.tell(message.replyTo, [...state.orders.values()]);
          return state;
        case 'JournalAppended':
        case 'JournalRetry':
          return state; // journal mode only
        default:
          return assertNever(message, 'execution command');
      }
    },
  };

  function receiveJournaled(state: ExecutionState, message: PaperExecutionMessage, ctx: ActorContext<PaperExecutionMessage>, mode: NonNullable<typeof journaled>): ExecutionState {
    switch (message.type) {
      case 'PlaceOrder':
        mode.place(state, message.order, ctx, message.triggerReceivedMonoMs);
        return state;
      case 'CancelOrder':
        mode.events(state.broker.cancel(message.clientOrderId, deps.clock.nowMs()), ctx);
        return state;
      case 'ModifyOrder':
        mode.events(modify(state, message.clientOrderId, message.change, ctx), ctx);
        return state;
      case 'MarketData':
        for (const batch of message.batches) mode.events(state.broker.onTicks(batch), ctx);
        return state;
      case 'GetOrders':
        ctx.system.tell(message.replyTo, [...state.orders.values()]);
        return state;
      case 'JournalAppended':
        mode.appended(state, message.batch, message.result.ok, message.result.ok ? undefined : message.result.error, ctx);
        return state;
      case 'JournalRetry':
        mode.retry(ctx);
        return state;
      default:
        return assertNever(message, 'execution command');
    }
  }
}

export const wrapExecutionTicks = (batches: readonly (readonly Tick[])[]): ExecutionCommand => ({ type: 'MarketData', batches });
