/**
 * The execution actor for Zerodha Kite. It sits where the paper one does (`/execution/kite`)
 * and speaks the same {@link ExecutionCommand}s, so strategies, risk and portfolios do not
 * know which broker runs. Every Kite call starts with `pipeToSelf` and comes back as a
 * message; outcomes are reported with {@link reportBrokerEvents} as the paper broker's.
 *
 * - Idempotent per client order id (Kite's `tag`): a repeated PlaceOrder is ignored; an
 *   unknown outcome is resolved by the tag, never by sending again.
 * - Order state comes from the ticker's postbacks, with a polling fallback (`PollOrders`
 *   on a timer and after a ticker gap). Snapshots may arrive out of order: a snapshot with
 *   fewer fills, or a live status after a final one, is ignored.
 * - Fills come from the order's trades (exact prices, deduplicated by trade id) whenever
 *   Kite's filled quantity grows, charged with the cost model's per-day ledger.
 * - A TokenException halts order placement: one RiskAlert on the bus, one error log, every
 *   later order rejected at once (no calls, no loops) until `SessionRenewed`.
 * - Zerodha's RMS squares off open MIS positions at the intraday cut-off with orders of its own
 *   (no tag). An untagged MIS order that closes a position Troupe holds (the actor keeps its MIS
 *   book per portfolio, strategy and symbol from its fills) is adopted as an auto square-off
 *   order of the strategy holding the largest such position: `ASQ` + Kite's order id, reason
 *   `auto-square-off`, reported like the paper broker's (`AutoSquareOff` event, metric, warning),
 *   and its fills go the ordinary way (journal first, portfolio, risk, strategy), charged the
 *   call-and-trade fee by the cost model. Any other foreign order is ignored.
 */
import type { ActorContext, Behavior, Json } from '../core/index.js';
import type { KiteOrderRequest, KiteOrderView, KiteTradeView } from '../../brokers/kite/kite-broker.js';
import { orderView } from '../../brokers/kite/kite-broker.js';
import { KiteNetworkError, KiteSessionExpiredError, mapKiteError } from '../../brokers/kite/errors.js';
import type { BrokerEvent } from '../../brokers/paper/index.js';
import { chargeOrderFill, upgradeChargeLedger, ZERODHA_NSE_EQUITY_RATES, type ChargeLedger, type ChargeRates, type DayLedger, type LegacyChargeLedger } from '../../model/charges.js';
import { applyOrderUpdate, assertNever, isTerminal, type Fill, type Instrument, type Order, type OrderStatus, type OrderUpdate } from '../../model/index.js';
import { istDate } from '../../model/time.js';
import { applyMisFill, isPastMisCutoff, misBookOf, squareOffOrder, type MisNet } from '../../model/square-off.js';
import type { Directory } from '../../runtime/directory.js';
import type { EventBus } from '../../runtime/event-bus.js';
import { orderLogFields, type Logger } from '../../runtime/logger.js';
import type { Metrics } from '../../runtime/metrics.js';
import { measuredJournalRequest, orderChangeProblem, reportBrokerEvents } from './execution.actor.js';
import type { KiteExecutionMessage, KiteJournalItem } from './kite-execution.protocol.js';
import type { OrderChange } from './execution.protocol.js';
import type { Journal } from '../../persistence/journal.js';
import { toJournalEntry, type OrderJournalEntry } from '../../persistence/journal-orders.js';

/** What the actor needs of the Kite adapter (a `KiteBroker` fits; tests may fake it). */
export interface KiteExecutionBroker {
  placeOrder(request: KiteOrderRequest): Promise<string>;
  modifyOrder(brokerOrderId: string, change: { quantity?: number; limitPricePaise?: number; triggerPricePaise?: number }): Promise<void>;
  cancelOrder(brokerOrderId: string): Promise<void>;
  orders(): Promise<KiteOrderView[]>;
  orderTrades(brokerOrderId: string): Promise<KiteTradeView[]>;
  /** The day's trades of every order: one read however many orders wait for theirs. */
  trades(): Promise<KiteTradeView[]>;
}

/** Dependencies of {@link kiteExecutionBehavior}. */
export interface KiteExecutionDeps {
  readonly broker: KiteExecutionBroker;
  readonly directory: Directory;
  readonly bus: EventBus;
  readonly metrics: Metrics;
  readonly clock: { nowMs(): number };
  readonly instruments: ReadonlyMap<string, Instrument>;
  readonly log: Logger;
  /** Cost model of fills (default Zerodha NSE equity). */
  readonly chargeRates?: ChargeRates;
  /** Polls without the tag after which an order whose placement outcome was unknown is rejected (default 3). */
  readonly unknownOutcomePolls?: number;
  /**
   * Journal before acting, as the paper execution actor does: an approved order is appended
   * (`OrderPlaced`) and only sent to Kite once durable; order changes and fills are appended
   * and reported onward (portfolio, risk, strategy, bus) only once durable. While the journal
   * fails, new orders are refused (fail closed, RiskAlert) and the events wait, retried.
   */
  readonly journal?: Journal;
  /** Journal stream; default {@link KITE_EXECUTION_STREAM}. */
  readonly journalStream?: string;
  readonly journalRetryMs?: { readonly min: number; readonly max: number };
  readonly onJournalHealth?: (healthy: boolean) => void;
  /** Zerodha's intraday cut-off, minutes after IST midnight (default 15:20): from it, MIS positions make the polls go on. */
  readonly squareOffMinute?: number;
}

/** The journal stream of the Kite execution actor. */
export const KITE_EXECUTION_STREAM = 'execution/kite';

/** The actor's state. Everything but the in-flight flags survives a restart (snapshot). */
export interface KiteExecutionState {
  readonly orders: Map<string, Order>;
  /** Finished client order ids, oldest first (bounded). */
  readonly finished: string[];
  /** Kite order id → client order id. */
  readonly byBrokerId: Map<string, string>;
  /** The latest Kite snapshot of each order. */
  readonly views: Map<string, KiteOrderView>;
  readonly appliedTrades: Set<string>;
  /** Brokerage charged so far per MIS/NRML order (the cap is per order; the charge ledger keeps CNC brokerage). */
  readonly brokerage: Map<string, number>;
  readonly ledgers: Map<string, DayLedger>;
  /** Open MIS positions by portfolio, strategy and symbol, from the fills: whose position an RMS square-off closes. */
  readonly misPositions: Map<string, MisNet>;
  /** Orders whose placement outcome is unknown → polls that did not show their tag. */
  readonly unknownOutcome: Map<string, number>;
  /** Orders whose trades the fetch in flight brings. */
  readonly tradesInFlight: Set<string>;
  /** Orders waiting for the next trade fetch (client order id → Kite order id); one fetch serves them all. */
  readonly tradesWanted: Map<string, string>;
  pollInFlight: boolean;
  pollAgain: boolean;
  /** Journal mode: what waits to be appended, whether an append is in flight, the journal's health. */
  outbox: KiteJournalItem[];
  appendInFlight: boolean;
  journalHealthy: boolean;
  journalRetryScheduled: boolean;
  journalRetryDelayMs: number;
  /** Why placement is halted (session expired), if it is. */
  halted: string | undefined;
}

/** How many finished orders the actor keeps for queries and duplicate detection. */
export const KITE_KEEP_FINISHED_ORDERS = 5_000;

const BEFORE_ACCEPT: ReadonlySet<OrderStatus> = new Set(['PUT ORDER REQ RECEIVED', 'VALIDATION PENDING', 'OPEN PENDING']);
const KITE_NOT_YET_LIVE: ReadonlySet<string> = new Set(['PUT ORDER REQ RECEIVED', 'VALIDATION PENDING', 'OPEN PENDING', 'AMO REQ RECEIVED', 'REJECTED']);
const KITE_FINAL: ReadonlySet<string> = new Set(['COMPLETE', 'CANCELLED', 'REJECTED']);

/** True when `next` may replace `previous` (fills never go back; a final status is never undone). */
export function isNewerView(previous: KiteOrderView | undefined, next: KiteOrderView): boolean {
  if (previous === undefined) return true;
  if (next.filledQuantity !== previous.filledQuantity) return next.filledQuantity > previous.filledQuantity;
  return !KITE_FINAL.has(previous.status) || KITE_FINAL.has(next.status);
}

function emptyState(): KiteExecutionState {
  return {
    orders: new Map(),
    finished: [],
    byBrokerId: new Map(),
    views: new Map(),
    appliedTrades: new Set(),
    brokerage: new Map(),
    ledgers: new Map(),
    misPositions: new Map(),
    unknownOutcome: new Map(),
    tradesInFlight: new Set(),
    tradesWanted: new Map(),
    pollInFlight: false,
    pollAgain: false,
    outbox: [],
    appendInFlight: false,
    journalHealthy: true,
    journalRetryScheduled: false,
    journalRetryDelayMs: 50,
    halted: undefined,
  };
}

function journalEntries(item: KiteJournalItem): OrderJournalEntry[] {
  if (item.kind === 'place') return [{ type: 'OrderPlaced', order: item.order }];
  const entries: OrderJournalEntry[] = [];
  for (const event of item.events) {
    if (event.kind === 'order-updated') entries.push({ type: 'OrderUpdated', order: event.order });
    else if (event.kind === 'fill') entries.push({ type: 'Fill', fill: event.fill, order: event.order });
  }
  return entries;
}

/** The client order id Troupe gives an RMS square-off order: `ASQ` and Kite's order id (its last 17 characters), at most 20 alphanumerics like a tag. */
export function squareOffClientOrderId(brokerOrderId: string): string {
  return `ASQ${brokerOrderId.replace(/[^A-Za-z0-9]/g, '').slice(-17)}`;
}

const signedQuantity = (order: Order, quantity: number): number => (order.side === 'BUY' ? quantity : -quantity);

interface EncodedKiteExecution {
  orders: Order[];
  finished: string[];
  byBrokerId: [string, string][];
  views: KiteOrderView[];
  appliedTrades: string[];
  brokerage: [string, number][];
  ledgers: [string, { day: string; ledger: ChargeLedger | LegacyChargeLedger }][];
  unknownOutcome: [string, number][];
  halted: string | null;
  /** Absent in snapshots saved before the actor kept it (none). */
  misPositions?: MisNet[];
}

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The Kite execution actor's behavior. */
export function kiteExecutionBehavior(deps: KiteExecutionDeps): Behavior<KiteExecutionMessage, KiteExecutionState> {
  const rates = deps.chargeRates ?? ZERODHA_NSE_EQUITY_RATES;
  const maxUnknownPolls = deps.unknownOutcomePolls ?? 3;

  const remember = (state: KiteExecutionState, order: Order): void => {
    const known = state.orders.get(order.clientOrderId);
    state.orders.set(order.clientOrderId, order);
    if (isTerminal(order.status) && !(known && isTerminal(known.status))) {
      state.finished.push(order.clientOrderId);
      if (state.finished.length > KITE_KEEP_FINISHED_ORDERS) {
        for (const id of state.finished.splice(0, state.finished.length - KITE_KEEP_FINISHED_ORDERS)) {
          const gone = state.orders.get(id);
          state.orders.delete(id);
          state.views.delete(id);
          state.brokerage.delete(id);
          if (gone?.brokerOrderId !== undefined) state.byBrokerId.delete(gone.brokerOrderId);
        }
      }
    }
  };

  const journal = deps.journal;
  const stream = deps.journalStream ?? KITE_EXECUTION_STREAM;
  const retry = deps.journalRetryMs ?? { min: 50, max: 1000 };

  const alert = (code: string, severity: 'info' | 'warning' | 'critical', message: string, order?: Order): void => {
    deps.bus.publish({ type: 'RiskAlert', severity, code, message, atMs: deps.clock.nowMs(), ...(order ? { strategyId: order.strategyId, symbol: order.symbol } : {}) });
  };

  const flush = (state: KiteExecutionState, ctx: ActorContext<KiteExecutionMessage>): void => {
    if (journal === undefined || state.appendInFlight || state.journalRetryScheduled) return;
    if (state.outbox.length === 0 && state.journalHealthy) return;
    const batch = state.outbox;
    state.outbox = [];
    state.appendInFlight = true;
    const entries = batch.flatMap(journalEntries).map((entry) => toJournalEntry(stream, entry));
    // down and nothing to write: probe with a read so we notice when it is back
    const work = measuredJournalRequest(entries.length > 0 ? journal.append(entries) : journal.readAfter(Number.MAX_SAFE_INTEGER, { limit: 1 }).then(() => []), deps.metrics);
    ctx.pipeToSelf(work, (result) => ({ type: 'KiteJournalAppended', batch, result }));
  };

  /** Tells everyone concerned; in journal mode only once the events are durable (the actor's own state moves at once). */
  const report = (state: KiteExecutionState, events: readonly BrokerEvent[], ctx: ActorContext<KiteExecutionMessage>): void => {
    if (events.length === 0) return;
    if (journal === undefined) {
      reportBrokerEvents(events, { ...deps, system: ctx.system }, (order) => remember(state, order));
      return;
    }
    for (const event of events) if (event.kind === 'order-updated' || event.kind === 'fill') remember(state, event.order);
    state.outbox.push({ kind: 'events', events });
    flush(state, ctx);
  };

  /** An approved order that will not be placed (journal down): the strategy hears why, risk releases it. */
  const refuse = (state: KiteExecutionState, order: Order, reason: string, ctx: ActorContext<KiteExecutionMessage>): void => {
    state.orders.delete(order.clientOrderId);
    deps.metrics.orders.inc({ status: 'REFUSED' });
    const strategy = deps.directory.strategies.get(order.strategyId);
    if (strategy) ctx.system.tell(strategy, { type: 'OrderEvent', event: { type: 'IntentRejected', intentId: order.intentId, symbol: order.symbol, reason } });
    if (deps.directory.risk) ctx.system.tell(deps.directory.risk, { type: 'OrderClosed', portfolioId: order.portfolioId, symbol: order.symbol, signedRemainder: signedQuantity(order, order.quantity) });
  };

  const reject = (state: KiteExecutionState, order: Order, reason: string, ctx: ActorContext<KiteExecutionMessage>): void => {
    if (isTerminal(order.status)) return;
    const rejected = applyOrderUpdate(order, { kind: 'rejected', reason, atMs: deps.clock.nowMs() });
    report(state, [{ kind: 'order-updated', order: rejected }], ctx);
  };

  const halt = (state: KiteExecutionState, error: KiteSessionExpiredError): void => {
    if (state.halted !== undefined) return;
    state.halted = error.message;
    deps.log.error({ reason: error.message }, 'Kite session expired: order placement halted until a new login');
    deps.bus.publish({ type: 'RiskAlert', severity: 'critical', code: 'broker-session-expired', message: `Trading halted: ${error.message}`, atMs: deps.clock.nowMs() });
  };

  const requestPoll = (state: KiteExecutionState, ctx: ActorContext<KiteExecutionMessage>): void => {
    if (state.halted !== undefined) return;
    if (state.pollInFlight) {
      state.pollAgain = true;
      return;
    }
    state.pollInFlight = true;
    state.pollAgain = false;
    ctx.pipeToSelf(deps.broker.orders(), (result) => ({ type: 'OrdersPolled', result }));
  };

  /**
   * Fetches the trades of the orders that wait for them: one read at a time, coalesced like the
   * polls. Reads share Kite's 10 requests a second (the adapter queues them) with the polls, so a
   * read per order would make a burst of fills queue ahead of the polls that finish the orders.
   */
  const startTradeFetch = (state: KiteExecutionState, ctx: ActorContext<KiteExecutionMessage>): void => {
    if (state.tradesInFlight.size > 0 || state.tradesWanted.size === 0 || state.halted !== undefined) return;
    const wanted = [...state.tradesWanted];
    state.tradesWanted.clear();
    for (const [clientOrderId] of wanted) state.tradesInFlight.add(clientOrderId);
    const orders = wanted.map(([clientOrderId, brokerOrderId]) => ({ clientOrderId, brokerOrderId }));
    // one order: its own trades; several: the day's trades, in one request
    const fetch = orders.length === 1 ? deps.broker.orderTrades(orders[0]!.brokerOrderId) : deps.broker.trades();
    ctx.pipeToSelf(fetch, (result) => ({ type: 'TradesFetched', orders, result }));
  };

  const fetchTrades = (state: KiteExecutionState, clientOrderId: string, brokerOrderId: string, ctx: ActorContext<KiteExecutionMessage>): void => {
    if (state.tradesInFlight.has(clientOrderId) || state.halted !== undefined) return;
    state.tradesWanted.set(clientOrderId, brokerOrderId);
    startTradeFetch(state, ctx);
  };

  /** Moves Troupe's order towards Kite's latest snapshot of it. */
  const advance = (state: KiteExecutionState, clientOrderId: string, ctx: ActorContext<KiteExecutionMessage>, allowTradeFetch = true): void => {
    let order = state.orders.get(clientOrderId);
    const view = state.views.get(clientOrderId);
    if (order === undefined || view === undefined || isTerminal(order.status)) return;
    const events: BrokerEvent[] = [];
    const now = deps.clock.nowMs();
    const step = (update: OrderUpdate): void => {
      order = applyOrderUpdate(order!, update);
      events.push({ kind: 'order-updated', order });
    };
    if (order.brokerOrderId === undefined) order = { ...order, brokerOrderId: view.brokerOrderId };
    if (BEFORE_ACCEPT.has(order.status)) {
      if (view.status === 'REJECTED') {
        step({ kind: 'rejected', reason: view.statusMessage ?? 'rejected by Kite', atMs: now });
        report(state, events, ctx);
        return;
      }
      if (KITE_NOT_YET_LIVE.has(view.status)) {
        remember(state, order);
        return;
      }
      step({ kind: 'accepted', brokerOrderId: view.brokerOrderId, status: view.status === 'TRIGGER PENDING' ? 'TRIGGER PENDING' : 'OPEN', atMs: now });
    }
    if (order.status === 'TRIGGER PENDING' && (view.filledQuantity > order.filledQuantity || view.status === 'OPEN' || view.status === 'COMPLETE' || view.status === 'UPDATE')) {
      step({ kind: 'triggered', atMs: now });
    }
    if (view.filledQuantity > order.filledQuantity) {
      // fills first (from the trades); a final status is applied once they are in
      remember(state, order);
      report(state, events, ctx);
      if (allowTradeFetch) fetchTrades(state, clientOrderId, view.brokerOrderId, ctx);
      return;
    }
    if (view.status === 'CANCELLED') step({ kind: 'cancelled', reason: view.statusMessage ?? 'cancelled', atMs: now });
    else if (view.status === 'REJECTED') step({ kind: 'rejected', reason: view.statusMessage ?? 'rejected by Kite', atMs: now });
    remember(state, order);
    report(state, events, ctx);
  };

  /**
   * Adopts an untagged MIS order of Kite's RMS that closes an MIS position Troupe holds (see
   * the module notes); returns its client order id, or undefined when the order is not one.
   */
  const adoptSquareOff = (state: KiteExecutionState, view: KiteOrderView, ctx: ActorContext<KiteExecutionMessage>): string | undefined => {
    const { symbol, side, quantity } = view;
    if (view.clientOrderId !== null || view.product !== 'MIS' || symbol === undefined || side === undefined || quantity === undefined) return undefined;
    if (view.status === 'REJECTED' || (view.status === 'CANCELLED' && view.filledQuantity === 0)) return undefined;
    const closes = side === 'SELL' ? 1 : -1;
    let holder: MisNet | undefined;
    for (const position of state.misPositions.values()) {
      if (position.symbol !== symbol || Math.sign(position.net) !== closes) continue;
      if (holder === undefined || Math.abs(position.net) > Math.abs(holder.net)) holder = position;
    }
    if (holder === undefined) return undefined;
    const clientOrderId = squareOffClientOrderId(view.brokerOrderId);
    const atMs = deps.clock.nowMs();
    const order = squareOffOrder({ clientOrderId, brokerOrderId: view.brokerOrderId, sequence: view.brokerOrderId, portfolioId: holder.portfolioId, strategyId: holder.strategyId, symbol, side, quantity, atMs });
    if (Math.abs(holder.net) < quantity) {
      deps.log.warn({ brokerOrderId: view.brokerOrderId, quantity, strategyId: holder.strategyId, held: holder.net }, 'Kite squared off more MIS units than the strategy holds: booked to it whole');
    }
    state.byBrokerId.set(view.brokerOrderId, clientOrderId);
    report(state, [{ kind: 'auto-square-off', portfolioId: holder.portfolioId, strategyId: holder.strategyId, symbol, side, quantity, orders: [clientOrderId], atMs, late: false }, { kind: 'order-updated', order }], ctx);
    return clientOrderId;
  };

  const rmsSquareOffDue = (state: KiteExecutionState): boolean => state.misPositions.size > 0 && isPastMisCutoff(deps.clock.nowMs(), deps.squareOffMinute);

  const ingest = (state: KiteExecutionState, view: KiteOrderView, ctx: ActorContext<KiteExecutionMessage>): void => {
    const clientOrderId = (view.clientOrderId !== null && state.orders.has(view.clientOrderId) ? view.clientOrderId : undefined) ?? state.byBrokerId.get(view.brokerOrderId) ?? adoptSquareOff(state, view, ctx);
    if (clientOrderId === undefined) return; // not ours (placed elsewhere) or long forgotten
    state.byBrokerId.set(view.brokerOrderId, clientOrderId);
    state.unknownOutcome.delete(clientOrderId);
    if (isNewerView(state.views.get(clientOrderId), view)) state.views.set(clientOrderId, view);
    else deps.log.debug({ clientOrderId, status: view.status, filled: view.filledQuantity }, 'stale Kite order snapshot ignored');
    advance(state, clientOrderId, ctx);
  };

  const applyTrades = (state: KiteExecutionState, clientOrderId: string, trades: readonly KiteTradeView[], ctx: ActorContext<KiteExecutionMessage>): void => {
    let order = state.orders.get(clientOrderId);
    if (order === undefined || isTerminal(order.status)) return;
    const events: BrokerEvent[] = [];
    const sorted = [...trades].sort((a, b) => (a.atMs === b.atMs ? (a.tradeId < b.tradeId ? -1 : a.tradeId > b.tradeId ? 1 : 0) : a.atMs - b.atMs));
    for (const trade of sorted) {
      const fillId = `kite:${trade.tradeId}`;
      if (state.appliedTrades.has(fillId)) continue;
      const remaining = order.quantity - order.filledQuantity;
      const quantity = Math.min(trade.quantity, remaining);
      if (quantity <= 0 || !Number.isSafeInteger(trade.pricePaise) || trade.pricePaise <= 0) {
        deps.log.warn({ clientOrderId, trade }, 'Kite trade not applied (no quantity left or bad price)');
        continue;
      }
      const atMs = Number.isFinite(trade.atMs) ? trade.atMs : deps.clock.nowMs();
      if (order.status === 'TRIGGER PENDING') order = applyOrderUpdate(order, { kind: 'triggered', atMs });
      const charges = chargeOrderFill(
        state.ledgers,
        istDate(atMs),
        { order, quantity, pricePaise: trade.pricePaise, brokerageAlreadyChargedPaise: state.brokerage.get(clientOrderId) ?? 0 },
        rates,
      );
      // the per-order cap of MIS/NRML is kept here; the ledger keeps CNC brokerage per order itself
      if (order.product !== 'CNC') state.brokerage.set(clientOrderId, (state.brokerage.get(clientOrderId) ?? 0) + charges.brokeragePaise);
      order = applyOrderUpdate(order, { kind: 'filled', quantity, pricePaise: trade.pricePaise, atMs });
      state.appliedTrades.add(fillId);
      const fill: Fill = {
        type: 'fill',
        fillId,
        clientOrderId,
        brokerOrderId: trade.brokerOrderId,
        portfolioId: order.portfolioId,
        strategyId: order.strategyId,
        symbol: order.symbol,
        side: order.side,
        product: order.product,
        quantity,
        pricePaise: trade.pricePaise,
        chargesPaise: charges.totalPaise,
        atMs,
      };
      applyMisFill(state.misPositions, fill);
      events.push({ kind: 'fill', fill, order, charges });
    }
    report(state, events, ctx);
    // a final status waiting for these fills; no new trade fetch here (the next snapshot or poll asks again)
    advance(state, clientOrderId, ctx, false);
  };

  /** Sends an admitted (in journal mode: durable) order to Kite. */
  const send = (state: KiteExecutionState, order: Order, ctx: ActorContext<KiteExecutionMessage>): void => {
    deps.bus.publish({ type: 'OrderSubmitted', order });
    deps.log.info(orderLogFields(order), 'order placed');
    if (state.halted !== undefined) {
      reject(state, order, `Trading halted: ${state.halted}`, ctx);
      return;
    }
    if (!deps.instruments.has(order.symbol)) {
      reject(state, order, `Unknown instrument ${order.symbol}.`, ctx);
      return;
    }
    const request: KiteOrderRequest = {
      clientOrderId: order.clientOrderId,
      symbol: order.symbol,
      side: order.side,
      quantity: order.quantity,
      orderType: order.orderType,
      product: order.product,
      validity: order.validity,
      ...(order.limitPricePaise === undefined ? {} : { limitPricePaise: order.limitPricePaise }),
      ...(order.triggerPricePaise === undefined ? {} : { triggerPricePaise: order.triggerPricePaise }),
    };
    ctx.pipeToSelf(deps.broker.placeOrder(request), (result) => ({ type: 'Placed', clientOrderId: order.clientOrderId, result }));
  };

  const refuseModify = (clientOrderId: string, reason: string, order: Order | undefined): void => {
    deps.log.warn({ clientOrderId, reason }, 'modification refused');
    alert('modify-rejected', 'info', `modification of ${clientOrderId} refused: ${reason}`, order);
  };

  /** Why this modification cannot be sent, if it cannot. */
  const modifyProblem = (state: KiteExecutionState, order: Order | undefined, change: OrderChange): string | undefined => {
    if (order !== undefined && !isTerminal(order.status)) {
      if (state.halted !== undefined) return `Trading halted: ${state.halted}`;
      if ((order.brokerOrderId ?? state.views.get(order.clientOrderId)?.brokerOrderId) === undefined) return 'Kite has not acknowledged the order yet; try again';
    }
    return orderChangeProblem(order, change, order === undefined ? undefined : deps.instruments.get(order.symbol));
  };

  return {
    kind: 'execution-kite',
    initial(ctx, restored) {
      const state = restored ?? emptyState();
      // after a restart, catch up on whatever happened while down
      if (restored && ([...restored.orders.values()].some((o) => !isTerminal(o.status)) || restored.misPositions.size > 0)) requestPoll(state, ctx);
      return state;
    },
    snapshot: {
      codec: {
        version: 1,
        encode(state) {
          const encoded: EncodedKiteExecution = {
            orders: [...state.orders.values()],
            finished: state.finished,
            byBrokerId: [...state.byBrokerId.entries()],
            views: [...state.views.values()],
            appliedTrades: [...state.appliedTrades],
            brokerage: [...state.brokerage.entries()],
            ledgers: [...state.ledgers.entries()],
            unknownOutcome: [...state.unknownOutcome.entries()],
            halted: state.halted ?? null,
            misPositions: [...state.misPositions.values()],
          };
          return JSON.parse(JSON.stringify(encoded)) as Json;
        },
        decode(json) {
          const e = structuredClone(json) as unknown as EncodedKiteExecution;
          const byBrokerId = new Map(e.byBrokerId);
          return {
            ...emptyState(),
            orders: new Map(e.orders.map((o) => [o.clientOrderId, o])),
            finished: e.finished,
            byBrokerId,
            views: new Map(e.views.map((v) => [v.clientOrderId ?? byBrokerId.get(v.brokerOrderId) ?? v.brokerOrderId, v])),
            appliedTrades: new Set(e.appliedTrades),
            brokerage: new Map(e.brokerage),
            ledgers: new Map(e.ledgers.map(([portfolioId, entry]) => [portfolioId, { day: entry.day, ledger: upgradeChargeLedger(entry.ledger) }])),
            unknownOutcome: new Map(e.unknownOutcome),
            misPositions: misBookOf(e.misPositions ?? []),
            halted: e.halted ?? undefined,
          };
        },
      },
      everyMessages: 100,
      everyMs: 1000,
    },
    receive(state, message, ctx) {
      switch (message.type) {
        case 'PlaceOrder': {
          const { order } = message;
          if (message.triggerReceivedMonoMs !== undefined) deps.metrics.tickToOrderSeconds.observe((performance.now() - message.triggerReceivedMonoMs) / 1000);
          if (state.orders.has(order.clientOrderId)) {
            deps.log.warn(orderLogFields(order), 'duplicate order ignored (already placed)');
            return state;
          }
          if (journal !== undefined && !state.journalHealthy) {
            refuse(state, order, 'The order journal is unavailable: new orders are refused until it is back.', ctx);
            alert('journal-unavailable', 'critical', `order ${order.clientOrderId} refused: the order journal is unavailable`, order);
            return state;
          }
          remember(state, order);
          if (journal !== undefined) {
            // durable first: sent to Kite only once the journal has it
            state.outbox.push({ kind: 'place', order });
            flush(state, ctx);
            return state;
          }
          send(state, order, ctx);
          return state;
        }
        case 'KiteJournalAppended': {
          state.appendInFlight = false;
          if (!message.result.ok) {
            const error = message.result.error;
            if (state.journalHealthy) {
              state.journalHealthy = false;
              deps.onJournalHealth?.(false);
              deps.log.error({ err: error }, 'the order journal is unavailable: new Kite orders are refused (fail closed)');
              alert('journal-unavailable', 'critical', `the order journal is unavailable (${errorMessage(error)}): new orders are refused until it is back`);
            }
            const waiting: KiteJournalItem[] = [];
            for (const item of [...message.batch, ...state.outbox]) {
              if (item.kind === 'place') refuse(state, item.order, 'The order journal is unavailable: the order was not placed.', ctx);
              else waiting.push(item);
            }
            state.outbox = waiting;
            state.journalRetryScheduled = true;
            const delayMs = state.journalRetryDelayMs;
            ctx.pipeToSelf(new Promise<void>((resolve) => setTimeout(resolve, delayMs).unref()), () => ({ type: 'KiteJournalRetry' }));
            state.journalRetryDelayMs = Math.min(retry.max, delayMs * 2);
            return state;
          }
          if (!state.journalHealthy) {
            state.journalHealthy = true;
            state.journalRetryDelayMs = retry.min;
            deps.onJournalHealth?.(true);
            deps.log.info('the order journal is back: Kite orders are accepted again');
            alert('journal-recovered', 'info', 'the order journal is back: orders are accepted again');
          }
          for (const item of message.batch) {
            if (item.kind === 'events') reportBrokerEvents(item.events, { ...deps, system: ctx.system }, () => undefined);
            else send(state, item.order, ctx);
          }
          flush(state, ctx);
          return state;
        }
        case 'KiteJournalRetry':
          state.journalRetryScheduled = false;
          flush(state, ctx);
          return state;
        case 'ModifyOrder': {
          const order = state.orders.get(message.clientOrderId);
          const problem = modifyProblem(state, order, message.change);
          if (problem !== undefined || order === undefined) {
            refuseModify(message.clientOrderId, problem ?? 'unknown order', order);
            return state;
          }
          const brokerOrderId = (order.brokerOrderId ?? state.views.get(order.clientOrderId)?.brokerOrderId)!;
          ctx.pipeToSelf(deps.broker.modifyOrder(brokerOrderId, message.change), (result) => ({ type: 'ModifySent', clientOrderId: message.clientOrderId, change: message.change, result }));
          return state;
        }
        case 'ModifySent': {
          const order = state.orders.get(message.clientOrderId);
          if (!message.result.ok) {
            const error = mapKiteError(message.result.error);
            if (error instanceof KiteSessionExpiredError) halt(state, error);
            refuseModify(message.clientOrderId, error.message, order);
            if (error instanceof KiteNetworkError) requestPoll(state, ctx);
            return state;
          }
          if (order === undefined || isTerminal(order.status)) {
            deps.log.info({ clientOrderId: message.clientOrderId }, 'Kite acknowledged a modification of an order that has finished meanwhile');
            return state;
          }
          const { change } = message;
          const modified: Order = {
            ...order,
            ...(change.quantity === undefined ? {} : { quantity: change.quantity }),
            ...(change.limitPricePaise === undefined ? {} : { limitPricePaise: change.limitPricePaise }),
            ...(change.triggerPricePaise === undefined ? {} : { triggerPricePaise: change.triggerPricePaise }),
            updatedAtMs: Math.max(order.updatedAtMs, deps.clock.nowMs()),
          };
          // a lower quantity frees risk's reservation of the difference
          const released = order.quantity - modified.quantity;
          if (released > 0 && deps.directory.risk) {
            ctx.system.tell(deps.directory.risk, { type: 'OrderClosed', portfolioId: order.portfolioId, symbol: order.symbol, signedRemainder: signedQuantity(order, released) });
          }
          report(state, [{ kind: 'order-updated', order: modified }], ctx);
          requestPoll(state, ctx);
          return state;
        }
        case 'Placed': {
          const order = state.orders.get(message.clientOrderId);
          if (order === undefined) return state;
          if (message.result.ok) {
            const brokerOrderId = message.result.value;
            state.byBrokerId.set(brokerOrderId, message.clientOrderId);
            if (order.brokerOrderId === undefined) remember(state, { ...order, brokerOrderId });
            // no postback yet: ask (the ticker may be down or postbacks off)
            if (!state.views.has(message.clientOrderId)) requestPoll(state, ctx);
            else advance(state, message.clientOrderId, ctx);
            return state;
          }
          const error = mapKiteError(message.result.error);
          if (error instanceof KiteSessionExpiredError) {
            halt(state, error);
            reject(state, order, `Trading halted: ${error.message}`, ctx);
          } else if (error instanceof KiteNetworkError) {
            // the adapter already looked for the tag once; keep looking on the next polls, never re-send
            deps.log.warn({ clientOrderId: message.clientOrderId, reason: error.message }, 'order outcome unknown; resolving by tag');
            state.unknownOutcome.set(message.clientOrderId, 0);
            requestPoll(state, ctx);
          } else {
            reject(state, order, error.message, ctx);
          }
          return state;
        }
        case 'CancelOrder': {
          const order = state.orders.get(message.clientOrderId);
          const at = deps.clock.nowMs();
          if (order === undefined || isTerminal(order.status)) {
            report(state, [{ kind: 'cancel-rejected', clientOrderId: message.clientOrderId, reason: order ? `order is ${order.status}` : 'unknown order', atMs: at }], ctx);
            return state;
          }
          const brokerOrderId = order.brokerOrderId ?? state.views.get(order.clientOrderId)?.brokerOrderId;
          if (brokerOrderId === undefined || state.halted !== undefined) {
            const reason = state.halted !== undefined ? `Trading halted: ${state.halted}` : 'Kite has not acknowledged the order yet; try again';
            report(state, [{ kind: 'cancel-rejected', clientOrderId: message.clientOrderId, reason, atMs: at }], ctx);
            return state;
          }
          ctx.pipeToSelf(deps.broker.cancelOrder(brokerOrderId), (result) => ({ type: 'CancelSent', clientOrderId: message.clientOrderId, result }));
          return state;
        }
        case 'CancelSent': {
          if (message.result.ok) {
            requestPoll(state, ctx);
            return state;
          }
          const error = mapKiteError(message.result.error);
          if (error instanceof KiteSessionExpiredError) halt(state, error);
          report(state, [{ kind: 'cancel-rejected', clientOrderId: message.clientOrderId, reason: error.message, atMs: deps.clock.nowMs() }], ctx);
          return state;
        }
        case 'KiteOrderUpdate': {
          let view: KiteOrderView;
          try {
            view = orderView(message.payload as Parameters<typeof orderView>[0]);
          } catch (error) {
            deps.log.warn({ reason: errorMessage(error) }, 'unreadable Kite order update ignored');
            return state;
          }
          deps.metrics.brokerOrderUpdates.inc({ source: 'postback' });
          ingest(state, view, ctx);
          return state;
        }
        case 'PollOrders': {
          const open = [...state.orders.values()].some((o) => !isTerminal(o.status));
          // holding MIS past the cut-off: the RMS's square-off orders must be seen even without postbacks
          if (open || rmsSquareOffDue(state)) requestPoll(state, ctx);
          return state;
        }
        case 'OrdersPolled': {
          state.pollInFlight = false;
          if (!message.result.ok) {
            const error = mapKiteError(message.result.error);
            if (error instanceof KiteSessionExpiredError) halt(state, error);
            else deps.log.warn({ reason: error.message }, 'Kite order poll failed; the next one retries');
            return state;
          }
          const seen = new Set<string>();
          deps.metrics.brokerOrderUpdates.inc({ source: 'poll' });
          for (const view of message.result.value) {
            if (view.clientOrderId !== null) seen.add(view.clientOrderId);
            ingest(state, view, ctx);
          }
          for (const [clientOrderId, polls] of [...state.unknownOutcome]) {
            if (seen.has(clientOrderId)) continue;
            if (polls + 1 >= maxUnknownPolls) {
              state.unknownOutcome.delete(clientOrderId);
              const order = state.orders.get(clientOrderId);
              if (order) reject(state, order, `Outcome unknown and Kite has no order tagged ${clientOrderId} after ${polls + 1} polls; not re-sent.`, ctx);
            } else {
              state.unknownOutcome.set(clientOrderId, polls + 1);
              state.pollAgain = true;
            }
          }
          if (state.pollAgain) requestPoll(state, ctx);
          return state;
        }
        case 'TradesFetched': {
          state.tradesInFlight.clear();
          if (!message.result.ok) {
            const error = mapKiteError(message.result.error);
            if (error instanceof KiteSessionExpiredError) halt(state, error);
            else deps.log.warn({ clientOrderIds: message.orders.map((o) => o.clientOrderId), reason: error.message }, 'Kite trades fetch failed; the next poll retries');
          } else {
            const byBrokerOrder = new Map<string, KiteTradeView[]>();
            for (const trade of message.result.value) byBrokerOrder.set(trade.brokerOrderId, [...(byBrokerOrder.get(trade.brokerOrderId) ?? []), trade]);
            for (const { clientOrderId, brokerOrderId } of message.orders) applyTrades(state, clientOrderId, byBrokerOrder.get(brokerOrderId) ?? [], ctx);
          }
          startTradeFetch(state, ctx);
          return state;
        }
        case 'SessionRenewed':
          if (state.halted !== undefined) {
            deps.log.info('Kite session renewed: order placement resumes');
            deps.bus.publish({ type: 'RiskAlert', severity: 'info', code: 'broker-session-renewed', message: 'the Kite session was renewed: order placement resumes', atMs: deps.clock.nowMs() });
          }
          state.halted = undefined;
          requestPoll(state, ctx);
          return state;
        case 'MarketData':
          return state; // Kite matches; market data is not needed here
        case 'GetOrders':
          ctx.system.tell(message.replyTo, [...state.orders.values()]);
          return state;
        default:
          return assertNever(message, 'kite execution message');
      }
    },
  };
}
