/**
 * Zerodha Kite behind the broker port: the execution actor's venue in Kite mode
 * (`/execution/kite`). It only translates, Troupe's orders to Kite calls (through
 * {@link KiteBroker}: the client-side 10 orders/s queue, retries of idempotent reads) and Kite's
 * answers (REST results, postbacks, polls, trades) to broker events. Every Kite call starts with
 * `io.later` and comes back as a {@link KiteVenueMessage}; nothing awaits.
 *
 * - Idempotent per client order id (Kite's `tag`): an unknown placement outcome is resolved by
 *   the tag on the next polls, never by sending again.
 * - Order state comes from the ticker's postbacks, with a polling fallback (`PollOrders` on a
 *   timer and after a ticker gap). Snapshots may arrive out of order: a snapshot with fewer
 *   fills, or a live status after a final one, is ignored ({@link isNewerView}).
 * - Fills come from the order's trades (exact prices, deduplicated by trade id) whenever Kite's
 *   filled quantity grows, charged with the cost model's per-day ledger.
 * - A TokenException halts order placement: one RiskAlert, one error log, every later order
 *   rejected at once (no calls, no loops) until `SessionRenewed`.
 * - Zerodha's RMS squares off open MIS positions at the intraday cut-off with orders of its own
 *   (no tag). An untagged MIS order that closes a position Troupe holds (the adapter keeps its
 *   MIS book per portfolio, strategy and symbol from its fills) is adopted as an auto square-off
 *   order of the strategy holding the largest such position: `ASQ` + Kite's order id, reason
 *   `auto-square-off`, reported like the paper broker's (`AutoSquareOff` event, metric, warning),
 *   its fills charged the call-and-trade fee by the cost model. Any other foreign order is ignored.
 * - From the cut-off, held MIS positions keep the polls going (the RMS orders must be seen).
 */
import { Type } from 'typebox';
import { Check } from 'typebox/value';
import { chargeOrderFill, upgradeChargeLedger, ZERODHA_NSE_EQUITY_RATES, type ChargeRates, type DayLedger } from '../../model/charges.js';
import {
  amended,
  applyOrderUpdate,
  isTerminal,
  orderTerms,
  type Fill,
  type Instrument,
  type Order,
  type OrderStatus,
  type OrderUpdate,
} from '../../model/index.js';
import { istDate } from '../../model/time.js';
import { applyMisFill, isPastMisCutoff, misBookOf, squareOffOrder, type MisNet } from '../../model/square-off.js';
import type { BrokerEvent, BrokerIO, BrokerLog, BrokerPort, IoResult, OrderChange } from '../../actors/execution/broker-port.js';
import { ChargeLedgerSnapshotSchema, decodeSnapshot, MisNetSchema } from '../../actors/execution/snapshot-schemas.js';
import { KiteNetworkError, KiteSessionExpiredError, mapKiteError } from './errors.js';
import type { KiteOrderRequest } from './kite-broker.js';
import { orderView, type KiteOrderView, type KiteTradeView } from './order-view.js';

/** The journal stream of the execution actor in Kite mode. */
export const KITE_EXECUTION_STREAM = 'execution/kite';

/** What the adapter needs of Kite (a `KiteBroker` fits; tests may fake it). */
export interface KiteOrderApi {
  placeOrder(request: KiteOrderRequest): Promise<string>;
  modifyOrder(brokerOrderId: string, change: { quantity?: number; limitPricePaise?: number; triggerPricePaise?: number }): Promise<void>;
  cancelOrder(brokerOrderId: string): Promise<void>;
  orders(): Promise<KiteOrderView[]>;
  orderTrades(brokerOrderId: string): Promise<KiteTradeView[]>;
  /** The day's trades of every order: one read however many orders wait for theirs. */
  trades(): Promise<KiteTradeView[]>;
}

/** Options of {@link kiteBrokerAdapter}. */
export interface KiteAdapterOptions {
  readonly broker: KiteOrderApi;
  readonly instruments: ReadonlyMap<string, Instrument>;
  readonly log: BrokerLog;
  /** Cost model of fills (default Zerodha NSE equity). */
  readonly chargeRates?: ChargeRates;
  /** Polls without the tag after which an order whose placement outcome was unknown is rejected (default 3). */
  readonly unknownOutcomePolls?: number;
  /** Zerodha's intraday cut-off, minutes after IST midnight (default 15:20): from it, MIS positions make the polls go on. */
  readonly squareOffMinute?: number;
  /** Counts each order update taken in (`troupe_broker_order_updates_total`). */
  readonly countUpdate?: (source: 'postback' | 'poll') => void;
}

/** The adapter's own messages: the outcomes of its Kite calls. */
export type KiteVenueMessage =
  | { readonly type: 'Placed'; readonly clientOrderId: string; readonly result: IoResult<string> }
  | { readonly type: 'CancelSent'; readonly clientOrderId: string; readonly result: IoResult<void> }
  | { readonly type: 'ModifySent'; readonly clientOrderId: string; readonly change: OrderChange; readonly result: IoResult<void> }
  | { readonly type: 'OrdersPolled'; readonly result: IoResult<KiteOrderView[]> }
  /** Trades for `orders` (for one order its own, for several the day's: each order takes those of its Kite order id). */
  | {
      readonly type: 'TradesFetched';
      readonly orders: readonly { readonly clientOrderId: string; readonly brokerOrderId: string }[];
      readonly result: IoResult<KiteTradeView[]>;
    };

/** The adapter's state. Everything but the in-flight flags survives a restart (snapshot). */
export interface KiteVenueState {
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
  /** Why placement is halted (session expired), if it is. */
  halted: string | undefined;
}

const BEFORE_ACCEPT: ReadonlySet<OrderStatus> = new Set(['PUT ORDER REQ RECEIVED', 'VALIDATION PENDING', 'OPEN PENDING']);
const KITE_NOT_YET_LIVE: ReadonlySet<string> = new Set(['PUT ORDER REQ RECEIVED', 'VALIDATION PENDING', 'OPEN PENDING', 'AMO REQ RECEIVED', 'REJECTED']);
const KITE_FINAL: ReadonlySet<string> = new Set(['COMPLETE', 'CANCELLED', 'REJECTED']);

/** True when `next` may replace `previous` (fills never go back; a final status is never undone). */
export function isNewerView(previous: KiteOrderView | undefined, next: KiteOrderView): boolean {
  if (previous === undefined) return true;
  if (next.filledQuantity !== previous.filledQuantity) return next.filledQuantity > previous.filledQuantity;
  return !KITE_FINAL.has(previous.status) || KITE_FINAL.has(next.status);
}

/** The client order id Troupe gives an RMS square-off order: `ASQ` and Kite's order id (its last 17 characters), at most 20 alphanumerics like a tag. */
export function squareOffClientOrderId(brokerOrderId: string): string {
  return `ASQ${brokerOrderId.replace(/[^A-Za-z0-9]/g, '').slice(-17)}`;
}

/** An empty adapter state. */
export function emptyKiteVenueState(): KiteVenueState {
  return {
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
    halted: undefined,
  };
}

/** A Kite order snapshot as the adapter keeps it. */
export const KiteOrderViewSchema = Type.Object({
  brokerOrderId: Type.String(),
  clientOrderId: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  filledQuantity: Type.Number(),
  averagePricePaise: Type.Number(),
  statusMessage: Type.Union([Type.String(), Type.Null()]),
  symbol: Type.Optional(Type.String()),
  side: Type.Optional(Type.Union([Type.Literal('BUY'), Type.Literal('SELL')])),
  product: Type.Optional(Type.String()),
  quantity: Type.Optional(Type.Number()),
});

/** The Kite adapter's part of the execution snapshot. */
export const KiteVenueSchema = Type.Object({
  byBrokerId: Type.Array(Type.Tuple([Type.String(), Type.String()])),
  views: Type.Array(KiteOrderViewSchema),
  appliedTrades: Type.Array(Type.String()),
  brokerage: Type.Array(Type.Tuple([Type.String(), Type.Number()])),
  ledgers: Type.Array(Type.Tuple([Type.String(), Type.Object({ day: Type.String(), ledger: ChargeLedgerSnapshotSchema })])),
  unknownOutcome: Type.Array(Type.Tuple([Type.String(), Type.Number()])),
  halted: Type.Union([Type.String(), Type.Null()]),
  /** Absent in snapshots saved before the adapter kept it (none). */
  misPositions: Type.Optional(Type.Array(MisNetSchema)),
});

/** The raw order fields of a postback the adapter reads (Kite sends more). */
const KitePostbackSchema = Type.Unsafe<Parameters<typeof orderView>[0]>(
  Type.Object({ order_id: Type.Union([Type.String(), Type.Number()]), status: Type.String() }),
);

/** One call's view of the adapter: options, state and the actor's IO. */
interface Kite {
  readonly options: KiteAdapterOptions;
  readonly rates: ChargeRates;
  readonly maxUnknownPolls: number;
  readonly s: KiteVenueState;
  readonly io: BrokerIO<KiteVenueMessage>;
}

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function reject(k: Kite, order: Order, reason: string): void {
  if (isTerminal(order.status)) return;
  k.io.emit([{ kind: 'order-updated', order: applyOrderUpdate(order, { kind: 'rejected', reason, atMs: k.io.nowMs() }) }]);
}

function halt(k: Kite, error: KiteSessionExpiredError): void {
  if (k.s.halted !== undefined) return;
  k.s.halted = error.message;
  k.options.log.error({ reason: error.message }, 'Kite session expired: order placement halted until a new login');
  k.io.alert('broker-session-expired', 'critical', `Trading halted: ${error.message}`);
}

function requestPoll(k: Kite): void {
  const { s } = k;
  if (s.halted !== undefined) return;
  if (s.pollInFlight) {
    s.pollAgain = true;
    return;
  }
  s.pollInFlight = true;
  s.pollAgain = false;
  k.io.later(k.options.broker.orders(), (result) => ({ type: 'OrdersPolled', result }));
}

/**
 * Fetches the trades of the orders that wait for them: one read at a time, coalesced like the
 * polls. Reads share Kite's 10 requests a second (the adapter queues them) with the polls, so a
 * read per order would make a burst of fills queue ahead of the polls that finish the orders.
 */
function startTradeFetch(k: Kite): void {
  const { s } = k;
  if (s.tradesInFlight.size > 0 || s.tradesWanted.size === 0 || s.halted !== undefined) return;
  const wanted = [...s.tradesWanted];
  s.tradesWanted.clear();
  for (const [clientOrderId] of wanted) s.tradesInFlight.add(clientOrderId);
  const orders = wanted.map(([clientOrderId, brokerOrderId]) => ({ clientOrderId, brokerOrderId }));
  // one order: its own trades; several: the day's trades, in one request
  const fetch = orders.length === 1 ? k.options.broker.orderTrades(orders[0]!.brokerOrderId) : k.options.broker.trades();
  k.io.later(fetch, (result) => ({ type: 'TradesFetched', orders, result }));
}

function fetchTrades(k: Kite, clientOrderId: string, brokerOrderId: string): void {
  if (k.s.tradesInFlight.has(clientOrderId) || k.s.halted !== undefined) return;
  k.s.tradesWanted.set(clientOrderId, brokerOrderId);
  startTradeFetch(k);
}

/** Moves Troupe's order towards Kite's latest snapshot of it. */
function advance(k: Kite, clientOrderId: string, allowTradeFetch = true): void {
  const { io } = k;
  let order = io.order(clientOrderId);
  const view = k.s.views.get(clientOrderId);
  if (order === undefined || view === undefined || isTerminal(order.status)) return;
  const events: BrokerEvent[] = [];
  const now = io.nowMs();
  const step = (update: OrderUpdate): void => {
    order = applyOrderUpdate(order!, update);
    events.push({ kind: 'order-updated', order });
  };
  if (order.brokerOrderId === undefined) order = amended(order, { brokerOrderId: view.brokerOrderId });
  if (BEFORE_ACCEPT.has(order.status)) {
    if (view.status === 'REJECTED') {
      step({ kind: 'rejected', reason: view.statusMessage ?? 'rejected by Kite', atMs: now });
      return io.emit(events);
    }
    if (KITE_NOT_YET_LIVE.has(view.status)) return io.remember(order);
    step({ kind: 'accepted', brokerOrderId: view.brokerOrderId, status: view.status === 'TRIGGER PENDING' ? 'TRIGGER PENDING' : 'OPEN', atMs: now });
  }
  if (
    order.status === 'TRIGGER PENDING' &&
    (view.filledQuantity > order.filledQuantity || view.status === 'OPEN' || view.status === 'COMPLETE' || view.status === 'UPDATE')
  ) {
    step({ kind: 'triggered', atMs: now });
  }
  if (view.filledQuantity > order.filledQuantity) {
    // fills first (from the trades); a final status is applied once they are in
    io.remember(order);
    io.emit(events);
    if (allowTradeFetch) fetchTrades(k, clientOrderId, view.brokerOrderId);
    return;
  }
  if (view.status === 'CANCELLED') step({ kind: 'cancelled', reason: view.statusMessage ?? 'cancelled', atMs: now });
  else if (view.status === 'REJECTED') step({ kind: 'rejected', reason: view.statusMessage ?? 'rejected by Kite', atMs: now });
  io.remember(order);
  io.emit(events);
}

/**
 * Adopts an untagged MIS order of Kite's RMS that closes an MIS position Troupe holds (see
 * the module notes); returns its client order id, or undefined when the order is not one.
 */
function adoptSquareOff(k: Kite, view: KiteOrderView): string | undefined {
  const { symbol, side, quantity } = view;
  if (view.clientOrderId !== null || view.product !== 'MIS' || symbol === undefined || side === undefined || quantity === undefined) return undefined;
  if (view.status === 'REJECTED' || (view.status === 'CANCELLED' && view.filledQuantity === 0)) return undefined;
  const closes = side === 'SELL' ? 1 : -1;
  let holder: MisNet | undefined;
  for (const position of k.s.misPositions.values()) {
    if (position.symbol !== symbol || Math.sign(position.net) !== closes) continue;
    if (holder === undefined || Math.abs(position.net) > Math.abs(holder.net)) holder = position;
  }
  if (holder === undefined) return undefined;
  const clientOrderId = squareOffClientOrderId(view.brokerOrderId);
  const atMs = k.io.nowMs();
  const order = squareOffOrder({
    clientOrderId,
    brokerOrderId: view.brokerOrderId,
    sequence: view.brokerOrderId,
    portfolioId: holder.portfolioId,
    strategyId: holder.strategyId,
    symbol,
    side,
    quantity,
    atMs,
  });
  if (Math.abs(holder.net) < quantity) {
    k.options.log.warn(
      { brokerOrderId: view.brokerOrderId, quantity, strategyId: holder.strategyId, held: holder.net },
      'Kite squared off more MIS units than the strategy holds: booked to it whole',
    );
  }
  k.s.byBrokerId.set(view.brokerOrderId, clientOrderId);
  k.io.emit([
    {
      kind: 'auto-square-off',
      portfolioId: holder.portfolioId,
      strategyId: holder.strategyId,
      symbol,
      side,
      quantity,
      orders: [clientOrderId],
      atMs,
      late: false,
    },
    { kind: 'order-updated', order },
  ]);
  return clientOrderId;
}

const rmsSquareOffDue = (k: Kite): boolean => k.s.misPositions.size > 0 && isPastMisCutoff(k.io.nowMs(), k.options.squareOffMinute);

function ingest(k: Kite, view: KiteOrderView): void {
  const { s } = k;
  const clientOrderId =
    (view.clientOrderId !== null && k.io.order(view.clientOrderId) !== undefined ? view.clientOrderId : undefined) ??
    s.byBrokerId.get(view.brokerOrderId) ??
    adoptSquareOff(k, view);
  if (clientOrderId === undefined) return; // not ours (placed elsewhere) or long forgotten
  s.byBrokerId.set(view.brokerOrderId, clientOrderId);
  s.unknownOutcome.delete(clientOrderId);
  if (isNewerView(s.views.get(clientOrderId), view)) s.views.set(clientOrderId, view);
  else k.options.log.debug({ clientOrderId, status: view.status, filled: view.filledQuantity }, 'stale Kite order snapshot ignored');
  advance(k, clientOrderId);
}

const byTime = (a: KiteTradeView, b: KiteTradeView): number =>
  a.atMs === b.atMs ? (a.tradeId < b.tradeId ? -1 : a.tradeId > b.tradeId ? 1 : 0) : a.atMs - b.atMs;

function applyTrades(k: Kite, clientOrderId: string, trades: readonly KiteTradeView[]): void {
  const { s, io } = k;
  let order = io.order(clientOrderId);
  if (order === undefined || isTerminal(order.status)) return;
  const events: BrokerEvent[] = [];
  for (const trade of [...trades].sort(byTime)) {
    const fillId = `kite:${trade.tradeId}`;
    if (s.appliedTrades.has(fillId)) continue;
    const quantity = Math.min(trade.quantity, order.quantity - order.filledQuantity);
    if (quantity <= 0 || !Number.isSafeInteger(trade.pricePaise) || trade.pricePaise <= 0) {
      k.options.log.warn({ clientOrderId, trade }, 'Kite trade not applied (no quantity left or bad price)');
      continue;
    }
    const atMs = Number.isFinite(trade.atMs) ? trade.atMs : io.nowMs();
    if (order.status === 'TRIGGER PENDING') order = applyOrderUpdate(order, { kind: 'triggered', atMs });
    const charges = chargeOrderFill(
      s.ledgers,
      istDate(atMs),
      { order, quantity, pricePaise: trade.pricePaise, brokerageAlreadyChargedPaise: s.brokerage.get(clientOrderId) ?? 0 },
      k.rates,
    );
    // the per-order cap of MIS/NRML is kept here; the ledger keeps CNC brokerage per order itself
    if (order.product !== 'CNC') s.brokerage.set(clientOrderId, (s.brokerage.get(clientOrderId) ?? 0) + charges.brokeragePaise);
    order = applyOrderUpdate(order, { kind: 'filled', quantity, pricePaise: trade.pricePaise, atMs });
    s.appliedTrades.add(fillId);
    const { portfolioId, strategyId, symbol, side, product } = order;
    const fill: Fill = {
      type: 'fill',
      fillId,
      clientOrderId,
      brokerOrderId: trade.brokerOrderId,
      portfolioId,
      strategyId,
      symbol,
      side,
      product,
      quantity,
      pricePaise: trade.pricePaise,
      chargesPaise: charges.totalPaise,
      atMs,
    };
    applyMisFill(s.misPositions, fill);
    events.push({ kind: 'fill', fill, order, charges });
  }
  io.emit(events);
  // a final status waiting for these fills; no new trade fetch here (the next snapshot or poll asks again)
  advance(k, clientOrderId, false);
}

/** Sends a durable order to Kite. */
function place(k: Kite, order: Order): void {
  if (k.s.halted !== undefined) return reject(k, order, `Trading halted: ${k.s.halted}`);
  if (!k.options.instruments.has(order.symbol)) return reject(k, order, `Unknown instrument ${order.symbol}.`);
  const request: KiteOrderRequest = { clientOrderId: order.clientOrderId, ...orderTerms(order) };
  k.io.later(k.options.broker.placeOrder(request), (result) => ({ type: 'Placed', clientOrderId: order.clientOrderId, result }));
}

function placed(k: Kite, message: Extract<KiteVenueMessage, { type: 'Placed' }>): void {
  const order = k.io.order(message.clientOrderId);
  if (order === undefined) return;
  if (message.result.ok) {
    const brokerOrderId = message.result.value;
    k.s.byBrokerId.set(brokerOrderId, message.clientOrderId);
    if (order.brokerOrderId === undefined) k.io.remember({ ...order, brokerOrderId });
    // no postback yet: ask (the ticker may be down or postbacks off)
    if (!k.s.views.has(message.clientOrderId)) requestPoll(k);
    else advance(k, message.clientOrderId);
    return;
  }
  const error = mapKiteError(message.result.error);
  if (error instanceof KiteSessionExpiredError) {
    halt(k, error);
    reject(k, order, `Trading halted: ${error.message}`);
  } else if (error instanceof KiteNetworkError) {
    // the adapter already looked for the tag once; keep looking on the next polls, never re-send
    k.options.log.warn({ clientOrderId: message.clientOrderId, reason: error.message }, 'order outcome unknown; resolving by tag');
    k.s.unknownOutcome.set(message.clientOrderId, 0);
    requestPoll(k);
  } else {
    reject(k, order, error.message);
  }
}

function cancel(k: Kite, clientOrderId: string, order: Order | undefined): void {
  const at = k.io.nowMs();
  if (order === undefined || isTerminal(order.status)) {
    return k.io.emit([{ kind: 'cancel-rejected', clientOrderId, reason: order ? `order is ${order.status}` : 'unknown order', atMs: at }]);
  }
  const brokerOrderId = order.brokerOrderId ?? k.s.views.get(order.clientOrderId)?.brokerOrderId;
  if (brokerOrderId === undefined || k.s.halted !== undefined) {
    const reason = k.s.halted !== undefined ? `Trading halted: ${k.s.halted}` : 'Kite has not acknowledged the order yet; try again';
    return k.io.emit([{ kind: 'cancel-rejected', clientOrderId, reason, atMs: at }]);
  }
  k.io.later(k.options.broker.cancelOrder(brokerOrderId), (result) => ({ type: 'CancelSent', clientOrderId, result }));
}

function modifySent(k: Kite, message: Extract<KiteVenueMessage, { type: 'ModifySent' }>): void {
  const order = k.io.order(message.clientOrderId);
  if (!message.result.ok) {
    const error = mapKiteError(message.result.error);
    if (error instanceof KiteSessionExpiredError) halt(k, error);
    k.io.modifyRefused(message.clientOrderId, error.message, order);
    if (error instanceof KiteNetworkError) requestPoll(k);
    return;
  }
  if (order === undefined || isTerminal(order.status)) {
    k.options.log.info({ clientOrderId: message.clientOrderId }, 'Kite acknowledged a modification of an order that has finished meanwhile');
    return;
  }
  const { change } = message;
  const modified: Order = {
    ...order,
    ...(change.quantity === undefined ? {} : { quantity: change.quantity }),
    ...(change.limitPricePaise === undefined ? {} : { limitPricePaise: change.limitPricePaise }),
    ...(change.triggerPricePaise === undefined ? {} : { triggerPricePaise: change.triggerPricePaise }),
    updatedAtMs: Math.max(order.updatedAtMs, k.io.nowMs()),
  };
  k.io.modified(order, modified.quantity, [{ kind: 'order-updated', order: modified }]);
  requestPoll(k);
}

function ordersPolled(k: Kite, result: IoResult<KiteOrderView[]>): void {
  const { s } = k;
  s.pollInFlight = false;
  if (!result.ok) {
    const error = mapKiteError(result.error);
    if (error instanceof KiteSessionExpiredError) halt(k, error);
    else k.options.log.warn({ reason: error.message }, 'Kite order poll failed; the next one retries');
    return;
  }
  const seen = new Set<string>();
  k.options.countUpdate?.('poll');
  for (const view of result.value) {
    if (view.clientOrderId !== null) seen.add(view.clientOrderId);
    ingest(k, view);
  }
  for (const [clientOrderId, polls] of [...s.unknownOutcome]) {
    if (seen.has(clientOrderId)) continue;
    if (polls + 1 >= k.maxUnknownPolls) {
      s.unknownOutcome.delete(clientOrderId);
      const order = k.io.order(clientOrderId);
      if (order) reject(k, order, `Outcome unknown and Kite has no order tagged ${clientOrderId} after ${polls + 1} polls; not re-sent.`);
    } else {
      s.unknownOutcome.set(clientOrderId, polls + 1);
      s.pollAgain = true;
    }
  }
  if (s.pollAgain) requestPoll(k);
}

function tradesFetched(k: Kite, message: Extract<KiteVenueMessage, { type: 'TradesFetched' }>): void {
  k.s.tradesInFlight.clear();
  if (!message.result.ok) {
    const error = mapKiteError(message.result.error);
    if (error instanceof KiteSessionExpiredError) halt(k, error);
    else
      k.options.log.warn(
        { clientOrderIds: message.orders.map((o) => o.clientOrderId), reason: error.message },
        'Kite trades fetch failed; the next poll retries',
      );
  } else {
    const byBrokerOrder = new Map<string, KiteTradeView[]>();
    for (const trade of message.result.value) byBrokerOrder.set(trade.brokerOrderId, [...(byBrokerOrder.get(trade.brokerOrderId) ?? []), trade]);
    for (const { clientOrderId, brokerOrderId } of message.orders) applyTrades(k, clientOrderId, byBrokerOrder.get(brokerOrderId) ?? []);
  }
  startTradeFetch(k);
}

function receive(k: Kite, message: KiteVenueMessage): void {
  switch (message.type) {
    case 'Placed':
      return placed(k, message);
    case 'CancelSent':
      if (message.result.ok) return requestPoll(k);
      {
        const error = mapKiteError(message.result.error);
        if (error instanceof KiteSessionExpiredError) halt(k, error);
        k.io.emit([{ kind: 'cancel-rejected', clientOrderId: message.clientOrderId, reason: error.message, atMs: k.io.nowMs() }]);
      }
      return;
    case 'ModifySent':
      return modifySent(k, message);
    case 'OrdersPolled':
      return ordersPolled(k, message.result);
    case 'TradesFetched':
      return tradesFetched(k, message);
    default: {
      const unknown: never = message;
      throw new Error(`unknown Kite venue message ${JSON.stringify(unknown)}`);
    }
  }
}

const hasOpen = (orders: Iterable<Order>): boolean => {
  for (const order of orders) if (!isTerminal(order.status)) return true;
  return false;
};

function encodeVenue(s: KiteVenueState) {
  return {
    byBrokerId: [...s.byBrokerId.entries()],
    views: [...s.views.values()].map((view) => ({ ...view })),
    appliedTrades: [...s.appliedTrades],
    brokerage: [...s.brokerage.entries()],
    ledgers: [...s.ledgers.entries()].map(([portfolioId, entry]) => [portfolioId, { day: entry.day, ledger: entry.ledger }]),
    unknownOutcome: [...s.unknownOutcome.entries()],
    halted: s.halted ?? null,
    misPositions: [...s.misPositions.values()].map((p) => ({ portfolioId: p.portfolioId, strategyId: p.strategyId, symbol: p.symbol, net: p.net })),
  };
}

function decodeVenue(json: unknown): KiteVenueState {
  const e = decodeSnapshot(KiteVenueSchema, json, 'Kite execution');
  const byBrokerId = new Map(e.byBrokerId);
  return {
    ...emptyKiteVenueState(),
    byBrokerId,
    views: new Map(e.views.map((v) => [v.clientOrderId ?? byBrokerId.get(v.brokerOrderId) ?? v.brokerOrderId, v])),
    appliedTrades: new Set(e.appliedTrades),
    brokerage: new Map(e.brokerage),
    ledgers: new Map(e.ledgers.map(([portfolioId, entry]) => [portfolioId, { day: entry.day, ledger: upgradeChargeLedger(entry.ledger) }])),
    unknownOutcome: new Map(e.unknownOutcome),
    misPositions: misBookOf(e.misPositions ?? []),
    halted: e.halted ?? undefined,
  };
}

/** Kite as a {@link BrokerPort} adapter. */
export function kiteBrokerAdapter(options: KiteAdapterOptions): BrokerPort<KiteVenueState, KiteVenueMessage> {
  const rates = options.chargeRates ?? ZERODHA_NSE_EQUITY_RATES;
  const maxUnknownPolls = options.unknownOutcomePolls ?? 3;
  const k = (s: KiteVenueState, io: BrokerIO<KiteVenueMessage>): Kite => ({ options, rates, maxUnknownPolls, s, io });
  return {
    venue: 'kite',
    stream: KITE_EXECUTION_STREAM,
    snapshotEveryMessages: 100,
    wantsMarketData: false,
    initial: emptyKiteVenueState,
    // the snapshot is plain data (maps as entry lists); JSON-safe by construction
    encode: (s) => JSON.parse(JSON.stringify(encodeVenue(s))) as never,
    decode: decodeVenue,
    started(s, restored, io) {
      // after a restart, catch up on whatever happened while down
      if (restored && (hasOpen(io.orders()) || s.misPositions.size > 0)) requestPoll(k(s, io));
    },
    place: (s, order, io) => place(k(s, io), order),
    cancel: (s, clientOrderId, order, io) => cancel(k(s, io), clientOrderId, order),
    modifyProblem(s, order) {
      if (s.halted !== undefined) return `Trading halted: ${s.halted}`;
      if ((order.brokerOrderId ?? s.views.get(order.clientOrderId)?.brokerOrderId) === undefined) return 'Kite has not acknowledged the order yet; try again';
      return undefined;
    },
    modify(s, order, change, io) {
      const brokerOrderId = order.brokerOrderId ?? s.views.get(order.clientOrderId)?.brokerOrderId;
      if (brokerOrderId === undefined) return io.modifyRefused(order.clientOrderId, 'Kite has not acknowledged the order yet; try again', order);
      io.later(options.broker.modifyOrder(brokerOrderId, change), (result) => ({ type: 'ModifySent', clientOrderId: order.clientOrderId, change, result }));
    },
    marketData: () => undefined, // Kite matches; market data is not needed here
    postback(s, payload, io) {
      if (!Check(KitePostbackSchema, payload)) {
        options.log.warn({ reason: 'not a Kite order (order_id and status expected)' }, 'unreadable Kite order update ignored');
        return;
      }
      let view: KiteOrderView;
      try {
        view = orderView(payload);
      } catch (error) {
        options.log.warn({ reason: errorMessage(error) }, 'unreadable Kite order update ignored');
        return;
      }
      options.countUpdate?.('postback');
      ingest(k(s, io), view);
    },
    poll(s, _reason, io) {
      // holding MIS past the cut-off: the RMS's square-off orders must be seen even without postbacks
      if (hasOpen(io.orders()) || rmsSquareOffDue(k(s, io))) requestPoll(k(s, io));
    },
    sessionRenewed(s, io) {
      if (s.halted !== undefined) {
        options.log.info('Kite session renewed: order placement resumes');
        io.alert('broker-session-renewed', 'info', 'the Kite session was renewed: order placement resumes');
      }
      s.halted = undefined;
      requestPoll(k(s, io));
    },
    receive: (s, message, io) => receive(k(s, io), message),
    forget(s, order) {
      s.views.delete(order.clientOrderId);
      s.brokerage.delete(order.clientOrderId);
      if (order.brokerOrderId !== undefined) s.byBrokerId.delete(order.brokerOrderId);
    },
  };
}
