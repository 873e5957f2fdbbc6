import { decodeSnapshot, ExecutionOrdersSchema } from './snapshot-schemas.js';
import type { Order } from '../../model/index.js';

/** How many finished orders the actor keeps (at least; up to twice as many) for queries and duplicate detection. */
export const KEEP_FINISHED_ORDERS = 5_000;

/** The orders and finished ids of an execution snapshot (any venue), checked against their schema. */
export function decodeExecutionOrders(json: unknown): { orders: Order[]; finished: string[] } {
  return decodeSnapshot(ExecutionOrdersSchema, json, 'execution');
}
