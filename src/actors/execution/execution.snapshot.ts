import { decodeSnapshot, ExecutionOrdersSchema, ExecutionOrdersV1Schema } from './snapshot-schemas.js';
import { SnapshotDecodeError } from '../core/json-codec.js';
import type { Json } from '../core/index.js';
import type { Order } from '../../model/index.js';
import type { FinishedOrders } from './finished-orders.js';
import { chunkRows, FINISHED_CHUNK_COLUMNS, readRow } from './finished-orders.js';

export { KEEP_FINISHED_ORDERS } from './finished-orders.js';

/** The execution actor's orders as a snapshot has them: the open ones, and the finished ones, oldest first. */
export interface ExecutionOrders {
  readonly open: Order[];
  readonly finished: Order[];
}

/**
 * The orders of an execution snapshot (any venue), checked against their schema: the current form
 * (open orders, finished ones in column chunks) or the one before it (every order and the finished
 * ones' ids).
 */
export function decodeExecutionOrders(json: unknown): ExecutionOrders {
  if (typeof json === 'object' && json !== null && !('finishedChunks' in json)) {
    const { orders, finished } = decodeSnapshot(ExecutionOrdersV1Schema, json, 'execution');
    const ids = new Set(finished);
    const byId = new Map(orders.map((order) => [order.clientOrderId, order]));
    return {
      open: orders.filter((order) => !ids.has(order.clientOrderId)),
      finished: finished.flatMap((id) => {
        const order = byId.get(id);
        return order === undefined ? [] : [order];
      }),
    };
  }
  const { orders, finishedChunks } = decodeSnapshot(ExecutionOrdersSchema, json, 'execution');
  const finished: Order[] = [];
  finishedChunks.forEach((chunk, index) => {
    const rows = chunkRows(chunk);
    const uneven = FINISHED_CHUNK_COLUMNS.find((name) => chunk[name].length !== rows);
    if (uneven !== undefined) {
      throw new SnapshotDecodeError('execution snapshot', `/finishedChunks/${index}/${uneven}`, `has ${chunk[uneven].length} rows, clientOrderId ${rows}`);
    }
    for (let row = 0; row < rows; row += 1) finished.push(readRow(chunk, row));
  });
  return { open: orders, finished };
}

/** The execution actor's own part of a snapshot (the current form) for these open and finished orders; the adapter's fields go next to it. */
export function encodeExecutionOrders(open: Iterable<Order>, finished: FinishedOrders): { readonly orders: Json; readonly finishedChunks: Json } {
  // orders and chunks are JSON-safe data (`Order`, `FinishedChunk`), typed as JSON without a copy
  return { orders: [...open] as never, finishedChunks: finished.toJson() as never };
}
