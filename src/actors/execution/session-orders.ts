import { isTerminal, type Order } from '../../model/index.js';
import { KEEP_FINISHED_ORDERS } from './execution.snapshot.js';

/** The session's orders as the execution actor keeps them (its state and snapshot hold both). */
export interface SessionOrders {
  /** Open orders and the most recent finished ones, by client order id (latest version). */
  readonly orders: Map<string, Order>;
  /** Finished orders, oldest first; beyond {@link KEEP_FINISHED_ORDERS} the oldest are forgotten here (the journal keeps them). */
  readonly finished: string[];
}

/**
 * Records the latest version of `order`. An order that has just finished joins `finished`; once
 * twice {@link KEEP_FINISHED_ORDERS} have, the oldest are forgotten down to that many (trimmed in
 * chunks, so the cost is amortised, not a 5,000-element shift per order) and returned, for the
 * venue adapter to forget too; usually nothing is (undefined). The runtime benchmark's bare loop
 * keeps its orders with this as well, so both do the same work.
 */
export function rememberOrder(book: SessionOrders, order: Order): Order[] | undefined {
  const known = book.orders.get(order.clientOrderId);
  book.orders.set(order.clientOrderId, order);
  if (!isTerminal(order.status) || (known !== undefined && isTerminal(known.status))) return undefined;
  book.finished.push(order.clientOrderId);
  if (book.finished.length < KEEP_FINISHED_ORDERS * 2) return undefined;
  const forgotten: Order[] = [];
  for (const id of book.finished.splice(0, book.finished.length - KEEP_FINISHED_ORDERS)) {
    const gone = book.orders.get(id);
    book.orders.delete(id);
    if (gone !== undefined) forgotten.push(gone);
  }
  return forgotten;
}
