/**
 * Kite's orders and trades as the adapter sees them, and what an order's snapshot means for the
 * model's order: plain mapping, apart from the client (`kite-broker.ts`) so that the runtime,
 * which always holds the Kite execution adapter, does not load `kiteconnect` unless it trades
 * through Kite.
 */
import type { Order as KiteOrder } from 'kiteconnect/types/connect.js';
import { parseRupees, type Paise } from '../../model/money.js';
import type { OrderUpdate } from '../../model/order.js';

/** A Kite order as the adapter reports it. */
export interface KiteOrderView {
  readonly brokerOrderId: string;
  readonly clientOrderId: string | null;
  readonly status: string;
  readonly filledQuantity: number;
  readonly averagePricePaise: Paise;
  readonly statusMessage: string | null;
  /**
   * What the order is, when Kite said (orders and postbacks do): Troupe needs it for orders it
   * did not place, such as the RMS's MIS auto square-off (untagged).
   */
  readonly symbol?: string;
  readonly side?: 'BUY' | 'SELL';
  readonly product?: string;
  readonly quantity?: number;
}

/** One execution of a Kite order. */
export interface KiteTradeView {
  readonly tradeId: string;
  readonly brokerOrderId: string;
  readonly quantity: number;
  readonly pricePaise: Paise;
  /** Fill time, epoch ms (NaN when Kite gave none). */
  readonly atMs: number;
}

/** A Kite order (REST or postback) as the adapter's view. */
export function orderView(
  order: Pick<KiteOrder, 'order_id' | 'status' | 'filled_quantity' | 'average_price' | 'status_message'> & {
    tag?: unknown;
    tradingsymbol?: unknown;
    transaction_type?: unknown;
    product?: unknown;
    quantity?: unknown;
  },
): KiteOrderView {
  const side = order.transaction_type === 'BUY' || order.transaction_type === 'SELL' ? order.transaction_type : undefined;
  const quantity = Number(order.quantity);
  return {
    brokerOrderId: String(order.order_id),
    clientOrderId: typeof order.tag === 'string' ? order.tag : null,
    status: String(order.status),
    filledQuantity: Number(order.filled_quantity) || 0,
    averagePricePaise: Number.isFinite(order.average_price) ? parseRupees(String(order.average_price)) : 0,
    statusMessage: typeof order.status_message === 'string' ? order.status_message : null,
    ...(typeof order.tradingsymbol === 'string' ? { symbol: order.tradingsymbol } : {}),
    ...(side === undefined ? {} : { side }),
    ...(typeof order.product === 'string' ? { product: order.product } : {}),
    ...(Number.isSafeInteger(quantity) && quantity > 0 ? { quantity } : {}),
  };
}

/**
 * Maps a Kite order snapshot to the model's {@link OrderUpdate}s, given what Troupe already
 * knew (`knownFilled`): acceptance, new fills (one aggregated update at the average price
 * of the new quantity when Kite only gives totals), rejection, cancellation. Transitional
 * statuses yield nothing; an out-of-order snapshot (fewer fills than known) yields nothing.
 */
export function orderUpdatesFromKite(view: KiteOrderView, knownFilled: number, knownFilledValuePaise: Paise, atMs: number): OrderUpdate[] {
  const updates: OrderUpdate[] = [];
  switch (view.status) {
    case 'OPEN':
    case 'TRIGGER PENDING':
      if (knownFilled === 0) updates.push({ kind: 'accepted', brokerOrderId: view.brokerOrderId, status: view.status, atMs });
      break;
    case 'REJECTED':
      updates.push({ kind: 'rejected', reason: view.statusMessage ?? 'rejected by Kite', atMs });
      return updates;
    default:
      break;
  }
  if (view.filledQuantity > knownFilled) {
    const quantity = view.filledQuantity - knownFilled;
    const totalValue = view.averagePricePaise * view.filledQuantity;
    const pricePaise = Math.round((totalValue - knownFilledValuePaise) / quantity);
    updates.push({ kind: 'filled', quantity, pricePaise, atMs });
  }
  if (view.status === 'CANCELLED') updates.push({ kind: 'cancelled', reason: view.statusMessage ?? 'cancelled', atMs });
  return updates;
}
