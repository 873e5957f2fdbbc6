import { divRound, mul, type Paise } from './money.js';
import type { Mutable } from './mutable.js';
import type { OrderExplanation } from './order-explanation.js';

export type { OrderExplanation, SignalContribution } from './order-explanation.js';

export type Side = 'BUY' | 'SELL';
export type OrderType = 'MARKET' | 'LIMIT' | 'SL' | 'SL-M';
/** MIS = intraday, CNC = delivery, NRML = F&O carry-forward. */
export type Product = 'MIS' | 'CNC' | 'NRML';
export type Validity = 'DAY' | 'IOC';

/** Kite order statuses (kite-reference §5). */
export type OrderStatus =
  | 'PUT ORDER REQ RECEIVED'
  | 'VALIDATION PENDING'
  | 'OPEN PENDING'
  | 'OPEN'
  | 'TRIGGER PENDING'
  | 'MODIFY VALIDATION PENDING'
  | 'MODIFY PENDING'
  | 'MODIFIED'
  | 'NOT MODIFIED'
  | 'CANCEL PENDING'
  | 'AMO REQ RECEIVED'
  | 'COMPLETE'
  | 'REJECTED'
  | 'CANCELLED';

export const TERMINAL_STATUSES: ReadonlySet<OrderStatus> = new Set(['COMPLETE', 'REJECTED', 'CANCELLED']);

/** True when no further change can happen to an order in this status. */
export function isTerminal(status: OrderStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

/**
 * What a strategy (or a person, through the API) wants: it becomes an order only after
 * risk approves it. `intentId` is unique per strategy and deterministic, so the client
 * order id derived from it is stable across restarts.
 */
export interface OrderIntent {
  readonly type: 'order-intent';
  readonly intentId: string;
  readonly strategyId: string;
  readonly portfolioId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly quantity: number;
  readonly orderType: OrderType;
  readonly product: Product;
  readonly validity: Validity;
  readonly limitPricePaise?: Paise;
  readonly triggerPricePaise?: Paise;
  /** When the intent was made (the clock of whoever made it), epoch ms. */
  readonly createdAtMs: number;
  /** Why: free text the strategy gives, kept in the order's metadata. */
  readonly reason?: string;
  /** Why, in structured form (e.g. the signal aggregator's vote); copied into the order. */
  readonly explanation?: OrderExplanation;
  /**
   * Local monotonic receive time of the tick that led to this intent (performance.now(),
   * ms). Instrumentation for tick-to-order latency; not persisted.
   */
  readonly triggerReceivedMonoMs?: number;
}

/** An order as Troupe tracks it, mirroring Kite's order fields we need. */
export interface Order {
  /** Troupe's client order id; sent to Kite as `tag` (≤ 20 alphanumerics). */
  readonly clientOrderId: string;
  readonly brokerOrderId?: string;
  readonly intentId: string;
  readonly strategyId: string;
  readonly portfolioId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly orderType: OrderType;
  readonly product: Product;
  readonly validity: Validity;
  readonly quantity: number;
  readonly limitPricePaise?: Paise;
  readonly triggerPricePaise?: Paise;
  readonly status: OrderStatus;
  readonly statusMessage?: string;
  readonly filledQuantity: number;
  readonly cancelledQuantity: number;
  /** Σ quantity × price over fills, in paise: the exact basis of the average price. */
  readonly filledValuePaise: Paise;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  /** The intent's reason (free text), when it gave one. */
  readonly reason?: string;
  /** The intent's structured explanation, when it gave one (which signals, weights, confidence, regime). */
  readonly explanation?: OrderExplanation;
}

/** What an order asks of the market: the fields an intent and its order share, and what a venue is sent. */
export type OrderTerms = Pick<Order, 'symbol' | 'side' | 'orderType' | 'product' | 'validity' | 'quantity' | 'limitPricePaise' | 'triggerPricePaise'>;

/** The {@link OrderTerms} of an intent or an order, on their own (a price it does not have stays absent). */
export function orderTerms(source: OrderTerms): OrderTerms {
  return {
    symbol: source.symbol,
    side: source.side,
    orderType: source.orderType,
    product: source.product,
    validity: source.validity,
    quantity: source.quantity,
    ...(source.limitPricePaise === undefined ? {} : { limitPricePaise: source.limitPricePaise }),
    ...(source.triggerPricePaise === undefined ? {} : { triggerPricePaise: source.triggerPricePaise }),
  };
}

/** Quantity still working at the exchange. */
export function pendingQuantity(order: Order): number {
  return isTerminal(order.status) ? 0 : order.quantity - order.filledQuantity - order.cancelledQuantity;
}

/** Average fill price in paise, rounded half away from zero (display; the exact basis is filledValuePaise). */
export function orderAveragePricePaise(order: Order): Paise {
  if (order.filledQuantity === 0) return 0;
  return divRound(order.filledValuePaise, order.filledQuantity);
}

/**
 * A deterministic client order id from the strategy id and the intent's sequence number:
 * alphanumeric and at most 20 characters, as Kite's `tag` allows. The same intent always
 * maps to the same id, so a restarted process never sends it twice.
 */
export function clientOrderIdFor(strategyId: string, sequence: number): string {
  if (!Number.isSafeInteger(sequence) || sequence < 0) {
    throw new RangeError(`clientOrderIdFor needs a non-negative integer sequence, got ${sequence}`);
  }
  let prefix = PREFIXES.get(strategyId);
  if (prefix === undefined) {
    prefix = `T${hash32(strategyId).toString(36).toUpperCase().padStart(7, '0').slice(0, 7)}`;
    PREFIXES.set(strategyId, prefix);
  }
  return `${prefix}${sequence.toString(36).toUpperCase().padStart(12, '0')}`.slice(0, 20);
}

/** Each strategy's id prefix, made once (a strategy places thousands of orders; a process runs a few strategies). */
const PREFIXES = new Map<string, string>();

function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Something that happened to an order, from the broker's point of view. */
export type OrderUpdate =
  | { readonly kind: 'accepted'; readonly brokerOrderId: string; readonly status: 'OPEN' | 'TRIGGER PENDING'; readonly atMs: number }
  | { readonly kind: 'rejected'; readonly reason: string; readonly atMs: number }
  | { readonly kind: 'filled'; readonly quantity: number; readonly pricePaise: Paise; readonly atMs: number }
  | { readonly kind: 'triggered'; readonly atMs: number }
  | { readonly kind: 'cancelled'; readonly reason: string; readonly atMs: number };

/** A transition that the Kite state machine does not allow. */
export class OrderTransitionError extends Error {
  constructor(order: Order, update: OrderUpdate) {
    super(`order ${order.clientOrderId} in status ${order.status} cannot take '${update.kind}'`);
    this.name = 'OrderTransitionError';
  }
}

/** A new order from an approved intent, in Kite's first status. */
export function newOrder(intent: OrderIntent, clientOrderId: string, atMs: number): Order {
  return buildOrder(intent, {
    clientOrderId,
    status: 'PUT ORDER REQ RECEIVED',
    filledQuantity: 0,
    cancelledQuantity: 0,
    filledValuePaise: 0,
    createdAtMs: atMs,
    updatedAtMs: atMs,
  });
}

/** What an order takes from its intent and keeps for life (an intent and an order both have these). */
type OrderOrigin = Pick<
  Order,
  | 'intentId'
  | 'strategyId'
  | 'portfolioId'
  | 'symbol'
  | 'side'
  | 'orderType'
  | 'product'
  | 'validity'
  | 'quantity'
  | 'limitPricePaise'
  | 'triggerPricePaise'
  | 'reason'
  | 'explanation'
>;

/** Where an order stands: what its transitions change. */
type OrderProgress = Pick<Order, 'clientOrderId' | 'status' | 'filledQuantity' | 'cancelledQuantity' | 'filledValuePaise' | 'createdAtMs' | 'updatedAtMs'> & {
  readonly [K in 'brokerOrderId' | 'statusMessage']?: Order[K] | undefined;
};

/**
 * Every order is made here, field by field, the optional fields after the required ones and always
 * in this order, so that every order with the same optional fields has one hidden class whatever
 * made it. (Orders used to be copied with spreads: on Node 20 a spread copy of objects that come
 * from more than one literal costs a microsecond each, and one that adds a key makes a class of its
 * own every time.)
 */
function buildOrder(origin: OrderOrigin, progress: OrderProgress): Order {
  const order: Mutable<Order> = {
    clientOrderId: progress.clientOrderId,
    intentId: origin.intentId,
    strategyId: origin.strategyId,
    portfolioId: origin.portfolioId,
    symbol: origin.symbol,
    side: origin.side,
    orderType: origin.orderType,
    product: origin.product,
    validity: origin.validity,
    quantity: origin.quantity,
    status: progress.status,
    filledQuantity: progress.filledQuantity,
    cancelledQuantity: progress.cancelledQuantity,
    filledValuePaise: progress.filledValuePaise,
    createdAtMs: progress.createdAtMs,
    updatedAtMs: progress.updatedAtMs,
  };
  if (origin.limitPricePaise !== undefined) order.limitPricePaise = origin.limitPricePaise;
  if (origin.triggerPricePaise !== undefined) order.triggerPricePaise = origin.triggerPricePaise;
  if (origin.reason !== undefined) order.reason = origin.reason;
  if (origin.explanation !== undefined) order.explanation = origin.explanation;
  if (progress.brokerOrderId !== undefined) order.brokerOrderId = progress.brokerOrderId;
  if (progress.statusMessage !== undefined) order.statusMessage = progress.statusMessage;
  return order;
}

/** The order in `status` at `atMs`, with what `move` changes (the rest stays as it was). */
function moved(order: Order, status: OrderStatus, atMs: number, move: Partial<OrderProgress>): Order {
  return buildOrder(order, {
    clientOrderId: order.clientOrderId,
    status,
    filledQuantity: move.filledQuantity ?? order.filledQuantity,
    cancelledQuantity: move.cancelledQuantity ?? order.cancelledQuantity,
    filledValuePaise: move.filledValuePaise ?? order.filledValuePaise,
    createdAtMs: order.createdAtMs,
    updatedAtMs: atMs,
    brokerOrderId: move.brokerOrderId ?? order.brokerOrderId,
    statusMessage: move.statusMessage ?? order.statusMessage,
  });
}

/**
 * The order state machine (kite-reference §5). Pure: returns the next order or throws
 * {@link OrderTransitionError}. A fill beyond the remaining quantity is an error too.
 */
export function applyOrderUpdate(order: Order, update: OrderUpdate): Order {
  if (isTerminal(order.status)) throw new OrderTransitionError(order, update);
  switch (update.kind) {
    case 'accepted':
      if (order.status !== 'PUT ORDER REQ RECEIVED' && order.status !== 'VALIDATION PENDING' && order.status !== 'OPEN PENDING') {
        throw new OrderTransitionError(order, update);
      }
      return moved(order, update.status, update.atMs, { brokerOrderId: update.brokerOrderId });
    case 'rejected':
      return closed(order, 'REJECTED', update.reason, update.atMs);
    case 'triggered':
      if (order.status !== 'TRIGGER PENDING') throw new OrderTransitionError(order, update);
      return moved(order, 'OPEN', update.atMs, {});
    case 'filled': {
      if (order.status !== 'OPEN' && order.status !== 'MODIFIED' && order.status !== 'NOT MODIFIED' && order.status !== 'CANCEL PENDING') {
        throw new OrderTransitionError(order, update);
      }
      const remaining = order.quantity - order.filledQuantity;
      if (!Number.isSafeInteger(update.quantity) || update.quantity <= 0 || update.quantity > remaining || !Number.isSafeInteger(update.pricePaise)) {
        throw new OrderTransitionError(order, update);
      }
      const filledQuantity = order.filledQuantity + update.quantity;
      const status = filledQuantity === order.quantity ? 'COMPLETE' : order.status === 'CANCEL PENDING' ? 'CANCEL PENDING' : 'OPEN';
      return moved(order, status, update.atMs, { filledQuantity, filledValuePaise: order.filledValuePaise + mul(update.quantity, update.pricePaise) });
    }
    case 'cancelled':
      return closed(order, 'CANCELLED', update.reason, update.atMs);
  }
}

/** The order ended unfilled in what remains: the rest is cancelled, with the broker's (or the system's) reason. */
function closed(order: Order, status: 'REJECTED' | 'CANCELLED', reason: string, atMs: number): Order {
  return moved(order, status, atMs, { statusMessage: reason, cancelledQuantity: order.quantity - order.filledQuantity });
}
