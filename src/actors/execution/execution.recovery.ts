/**
 * How the journal applies to the execution actor's snapshot after a crash (called by
 * `persistence/recovery.ts` for the paper venue and by Kite's recovery): the orders are the
 * journal's latest version of each (the journal wins over a snapshot ahead of it), open orders
 * the snapshot has but the journal does not were never durable and are forgotten (never sent),
 * the finished list is trimmed as the actor trims it; the venue adapter rebuilds its own part.
 */
import type { BrokerJson } from './broker-port.js';
import type { Json } from '../core/index.js';
import type { Order } from '../../model/index.js';
import { decodeExecutionOrders, KEEP_FINISHED_ORDERS } from './execution.snapshot.js';

/** What the journal says about the execution actor's orders. */
export interface ExecutionJournalFacts {
  /** The latest journaled version of each order. */
  readonly orders: ReadonlyMap<string, Order>;
  /** Client order ids in the order they became terminal. */
  readonly finished: readonly string[];
}

/**
 * The execution actor's recovered snapshot state: its orders from `previous` (the restored
 * snapshot's state, if any) and the journal, then the venue's fields from `venue`, given the
 * recovered orders.
 */
export function recoverExecutionState(
  previous: unknown,
  journal: ExecutionJournalFacts,
  venue: (orders: ReadonlyMap<string, Order>) => { readonly [key: string]: BrokerJson },
  keepFinished = KEEP_FINISHED_ORDERS,
): Json {
  const saved = previous === undefined ? { orders: [], finished: [] } : decodeExecutionOrders(previous);
  const orders = new Map<string, Order>(saved.orders.map((order) => [order.clientOrderId, order]));
  const finished = saved.finished.filter((id) => !journal.orders.has(id));
  const finishedBefore = new Set(finished);
  // open orders the snapshot has but the journal does not were never durable: never sent, forget them
  for (const id of [...orders.keys()]) if (!journal.orders.has(id) && !finishedBefore.has(id)) orders.delete(id);
  for (const [id, order] of journal.orders) orders.set(id, order);
  finished.push(...new Set(journal.finished));
  if (finished.length > keepFinished) for (const id of finished.splice(0, finished.length - keepFinished)) orders.delete(id);
  // orders are JSON-safe data (`Order`)
  return { orders: [...orders.values()] as never, finished, ...venue(orders) };
}
