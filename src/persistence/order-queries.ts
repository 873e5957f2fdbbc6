/**
 * The API's order lists, read from the `orders` table the order journal projects: newest first,
 * filtered by portfolio, strategy, symbol, status, side and/or a time range, paged with a keyset cursor
 * (`created_at`, `client_order_id`). Every list is served by an index (migrations 001 and 003);
 * `bench/queries.bench.ts` measures these functions at 1M orders.
 *
 * Orders come back as the model's {@link Order}, with the intent's `reason` and structured
 * `explanation` (columns `reason` text and `explanation` jsonb, migration 007) when it gave them.
 */
import type { Order, OrderExplanation, OrderStatus, OrderType, Product, Side, Validity } from '../model/index.js';
import type { Queryable } from './database.js';

/** Which orders to list (every given field must match). */
export interface OrderListFilter {
  readonly portfolioId?: string;
  readonly strategyId?: string;
  readonly symbol?: string;
  readonly status?: OrderStatus;
  readonly side?: Side;
  /** Created at or after (epoch ms). */
  readonly fromMs?: number;
  /** Created before (epoch ms). */
  readonly toMs?: number;
}

/** Where a page starts: just after this order in newest-first order. */
export interface OrderCursor {
  readonly createdAtMs: number;
  readonly clientOrderId: string;
}

/** One page of orders, newest first. */
export interface OrderPage {
  readonly items: Order[];
  /** The cursor of the next page; undefined on the last one. */
  readonly next?: OrderCursor;
}

/** Most orders per page of the API. */
export const MAX_ORDER_PAGE = 500;
/** Most orders per query: an export (CSV) reads in batches of up to this many. */
export const MAX_ORDER_BATCH = 5_000;

interface OrderRow {
  client_order_id: string;
  broker_order_id: string | null;
  intent_id: string;
  portfolio_id: string;
  strategy_id: string;
  symbol: string;
  side: string;
  order_type: string;
  product: string;
  validity: string;
  quantity: number;
  limit_price_paise: number | null;
  trigger_price_paise: number | null;
  status: string;
  status_message: string | null;
  filled_quantity: number;
  cancelled_quantity: number;
  filled_value_paise: number;
  created_at_ms: number;
  updated_at_ms: number;
  reason: string | null;
  explanation: OrderExplanation | string | null;
}

const COLUMNS = `client_order_id, broker_order_id, intent_id, portfolio_id, strategy_id, symbol, side, order_type, product, validity, quantity,
  limit_price_paise, trigger_price_paise, status, status_message, filled_quantity, cancelled_quantity, filled_value_paise,
  (extract(epoch FROM created_at) * 1000)::bigint AS created_at_ms, (extract(epoch FROM updated_at) * 1000)::bigint AS updated_at_ms, reason, explanation`;

/** A row of `orders` → the model's order (absent optional fields stay absent). */
export function orderFromRow(row: OrderRow): Order {
  const explanation = typeof row.explanation === 'string' ? (JSON.parse(row.explanation) as OrderExplanation) : row.explanation;
  return {
    clientOrderId: row.client_order_id,
    ...(row.broker_order_id === null ? {} : { brokerOrderId: row.broker_order_id }),
    intentId: row.intent_id,
    strategyId: row.strategy_id,
    portfolioId: row.portfolio_id,
    symbol: row.symbol,
    side: row.side as Side,
    orderType: row.order_type as OrderType,
    product: row.product as Product,
    validity: row.validity as Validity,
    quantity: row.quantity,
    ...(row.limit_price_paise === null ? {} : { limitPricePaise: row.limit_price_paise }),
    ...(row.trigger_price_paise === null ? {} : { triggerPricePaise: row.trigger_price_paise }),
    status: row.status as OrderStatus,
    ...(row.status_message === null ? {} : { statusMessage: row.status_message }),
    filledQuantity: row.filled_quantity,
    cancelledQuantity: row.cancelled_quantity,
    filledValuePaise: row.filled_value_paise,
    createdAtMs: row.created_at_ms,
    updatedAtMs: row.updated_at_ms,
    ...(row.reason === null ? {} : { reason: row.reason }),
    ...(explanation === null ? {} : { explanation }),
  };
}

/** The SQL and parameters of one page (exported for the benchmark's plans). */
export function orderListQuery(filter: OrderListFilter, limit: number, after?: OrderCursor): { readonly sql: string; readonly params: unknown[] } {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_ORDER_BATCH) throw new RangeError(`limit must be an integer from 1 to ${MAX_ORDER_BATCH}`);
  const where: string[] = [];
  const params: unknown[] = [];
  const bind = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.portfolioId !== undefined) where.push(`portfolio_id = ${bind(filter.portfolioId)}`);
  if (filter.strategyId !== undefined) where.push(`strategy_id = ${bind(filter.strategyId)}`);
  if (filter.symbol !== undefined) where.push(`symbol = ${bind(filter.symbol)}`);
  if (filter.status !== undefined) where.push(`status = ${bind(filter.status)}`);
  if (filter.side !== undefined) where.push(`side = ${bind(filter.side)}`);
  if (filter.fromMs !== undefined) where.push(`created_at >= ${bind(new Date(filter.fromMs).toISOString())}::timestamptz`);
  if (filter.toMs !== undefined) where.push(`created_at < ${bind(new Date(filter.toMs).toISOString())}::timestamptz`);
  if (after !== undefined) {
    const at = bind(new Date(after.createdAtMs).toISOString());
    const id = bind(after.clientOrderId);
    // the redundant `created_at <=` lets the (…, created_at DESC) index bound the scan
    where.push(`created_at <= ${at}::timestamptz AND (created_at, client_order_id) < (${at}::timestamptz, ${id})`);
  }
  const sql = `SELECT ${COLUMNS} FROM orders${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, client_order_id DESC LIMIT ${limit + 1}`;
  return { sql, params };
}

/** One page of orders, newest first (`limit` 1…{@link MAX_ORDER_BATCH}; the API gives at most {@link MAX_ORDER_PAGE}). */
export async function listOrders(db: Queryable, filter: OrderListFilter, page: { readonly limit: number; readonly after?: OrderCursor }): Promise<OrderPage> {
  const { sql, params } = orderListQuery(filter, page.limit, page.after);
  const rows = await db.query<OrderRow>(sql, params);
  const items = rows.slice(0, page.limit).map(orderFromRow);
  const last = items.at(-1);
  return rows.length > page.limit && last !== undefined ? { items, next: { createdAtMs: last.createdAtMs, clientOrderId: last.clientOrderId } } : { items };
}

/** One order by its client order id. */
export async function findOrder(db: Queryable, clientOrderId: string): Promise<Order | undefined> {
  const [row] = await db.query<OrderRow>(`SELECT ${COLUMNS} FROM orders WHERE client_order_id = $1`, [clientOrderId]);
  return row === undefined ? undefined : orderFromRow(row);
}
