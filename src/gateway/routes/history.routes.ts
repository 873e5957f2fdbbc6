import { Readable } from 'node:stream';
import { Type, type Static } from 'typebox';
import { mul, type Fill, type Order, type OrderStatus } from '../../model/index.js';
import { EXPORT_BATCH, everyRow, type HistoryPage, type StoredRiskAlert, type TradeCursor, type TradeListFilter } from '../../persistence/history-queries.js';
import type { OrderCursor } from '../../persistence/order-queries.js';
import type { Principal } from '../auth/auth-service.js';
import type { GatewayContext, GatewayInstance } from '../context.js';
import { ApiError } from '../errors.js';
import { csvLine, rupeesExact } from '../csv.js';
import { FillSchema, IdParams, OrderSchema, OrdersQuery, Page, RiskAlertsQuery, StoredRiskAlertSchema, StrategyBookSchema, TradesQuery } from '../schemas.js';
import { API_ERRORS, routeGroup, routesOf } from './declare-routes.js';

const orderRoute = routeGroup('orders', API_ERRORS);
const riskRoute = routeGroup('risk', API_ERRORS);
const strategyRoute = routeGroup('strategies', API_ERRORS);

/** India Standard Time: a date without a zone is a trading day in IST. */
const IST_OFFSET = '+05:30';

/** Opaque cursors: base64url of a small JSON value. */
function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeCursor<C>(cursor: string | undefined, fromValue: (value: unknown) => C | undefined): C | undefined {
  if (cursor === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  const decoded = fromValue(value);
  if (decoded === undefined)
    throw new ApiError(400, 'invalid-cursor', 'the cursor is not one this API gave out; start without it', [
      { in: 'querystring', path: '/cursor', message: 'is not a valid cursor' },
    ]);
  return decoded;
}

/** How a list's keyset cursor travels: as a small JSON value, opaque to the client ({@link encodeCursor}). */
interface CursorCodec<C> {
  readonly toValue: (cursor: C) => unknown;
  /** undefined: the value is not a cursor this API gave out. */
  readonly fromValue: (value: unknown) => C | undefined;
}

/** A cursor of a time and an id field, `[ms, id]` on the wire. */
function timeIdCursor<Time extends string, Id extends string>(time: Time, id: Id): CursorCodec<Record<Time, number> & Record<Id, string>> {
  return {
    toValue: (cursor) => [cursor[time], cursor[id]],
    fromValue: (value) => {
      if (!Array.isArray(value) || value.length !== 2) return undefined;
      const [ms, key] = value as unknown[];
      return typeof ms === 'number' && Number.isSafeInteger(ms) && typeof key === 'string'
        ? ({ [time]: ms, [id]: key } as Record<Time, number> & Record<Id, string>)
        : undefined;
    },
  };
}

/** A positive integer id as the cursor. */
const ID_CURSOR: CursorCodec<number> = {
  toValue: (id) => id,
  fromValue: (value) => (Number.isSafeInteger(value) && (value as number) > 0 ? (value as number) : undefined),
};

/**
 * A time bound of a filter: epoch milliseconds, or an ISO 8601 date (midnight IST) or date-time
 * (IST when it names no zone). Anything else is a 400 naming the parameter.
 */
export function parseTimeBound(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  let ms = Number.NaN;
  if (/^\d{1,16}$/.test(value)) ms = Number(value);
  else if (/^\d{4}-\d{2}-\d{2}$/.test(value)) ms = Date.parse(`${value}T00:00:00${IST_OFFSET}`);
  else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?$/.test(value))
    ms = Date.parse(/(Z|[+-]\d{2}:\d{2})$/.test(value) ? value : `${value}${IST_OFFSET}`);
  if (!Number.isSafeInteger(ms)) {
    const message = 'must be an ISO 8601 date (2026-05-20), date-time (2026-05-20T09:15:00+05:30) or epoch milliseconds';
    throw new ApiError(400, 'invalid-request', `querystring /${name} ${message}`, [{ in: 'querystring', path: `/${name}`, message }]);
  }
  return ms;
}

function timeRange(query: { readonly from?: string | undefined; readonly to?: string | undefined }): { fromMs?: number; toMs?: number } {
  const fromMs = parseTimeBound(query.from, 'from');
  const toMs = parseTimeBound(query.to, 'to');
  if (fromMs !== undefined && toMs !== undefined && toMs <= fromMs) {
    const message = 'must be after from';
    throw new ApiError(400, 'invalid-request', `querystring /to ${message}`, [{ in: 'querystring', path: '/to', message }]);
  }
  return { ...(fromMs === undefined ? {} : { fromMs }), ...(toMs === undefined ? {} : { toMs }) };
}

/** CSV when asked by `?format=csv`, or by `Accept: text/csv` without a format. */
function wantsCsv(format: string | undefined, accept: string | undefined): boolean {
  return format === 'csv' || (format === undefined && accept !== undefined && /(^|,)\s*text\/csv/i.test(accept));
}

const iso = (ms: number): string => new Date(ms).toISOString();

const ORDER_COLUMNS = [
  'client_order_id',
  'broker_order_id',
  'created_at',
  'updated_at',
  'portfolio',
  'strategy',
  'symbol',
  'side',
  'order_type',
  'product',
  'validity',
  'quantity',
  'filled_quantity',
  'cancelled_quantity',
  'status',
  'limit_price_inr',
  'trigger_price_inr',
  'filled_value_inr',
  'status_message',
  'reason',
];
const orderCells = (order: Order): (string | number)[] => [
  order.clientOrderId,
  order.brokerOrderId ?? '',
  iso(order.createdAtMs),
  iso(order.updatedAtMs),
  order.portfolioId,
  order.strategyId,
  order.symbol,
  order.side,
  order.orderType,
  order.product,
  order.validity,
  order.quantity,
  order.filledQuantity,
  order.cancelledQuantity,
  order.status,
  order.limitPricePaise === undefined ? '' : rupeesExact(order.limitPricePaise),
  order.triggerPricePaise === undefined ? '' : rupeesExact(order.triggerPricePaise),
  rupeesExact(order.filledValuePaise),
  order.statusMessage ?? '',
  order.reason ?? '',
];
const TRADE_COLUMNS = [
  'fill_id',
  'executed_at',
  'client_order_id',
  'broker_order_id',
  'portfolio',
  'strategy',
  'symbol',
  'side',
  'product',
  'quantity',
  'price_inr',
  'value_inr',
  'charges_inr',
];
const tradeCells = (fill: Fill): (string | number)[] => [
  fill.fillId,
  iso(fill.atMs),
  fill.clientOrderId,
  fill.brokerOrderId,
  fill.portfolioId,
  fill.strategyId,
  fill.symbol,
  fill.side,
  fill.product,
  fill.quantity,
  rupeesExact(fill.pricePaise),
  rupeesExact(mul(fill.pricePaise, fill.quantity)),
  rupeesExact(fill.chargesPaise),
];
const ALERT_COLUMNS = [
  'id',
  'code',
  'severity',
  'subject',
  'strategy',
  'symbol',
  'count',
  'first_at',
  'last_at',
  'first_seen',
  'last_seen',
  'message',
  'acknowledged_by',
  'acknowledged_at',
  'acknowledged_note',
];
const alertCells = (alert: StoredRiskAlert): (string | number)[] => [
  alert.id,
  alert.code,
  alert.severity,
  alert.subject,
  alert.strategyId ?? '',
  alert.symbol ?? '',
  alert.count,
  iso(alert.firstAtMs),
  iso(alert.lastAtMs),
  iso(alert.firstSeenMs),
  iso(alert.lastSeenMs),
  alert.message,
  alert.acknowledgedBy ?? '',
  alert.acknowledgedAtMs === undefined ? '' : iso(alert.acknowledgedAtMs),
  alert.acknowledgedNote ?? '',
];

/** A list from the record as the API gives it: a page with the cursor of the next, or every row as CSV. */
interface Listing<T, C> {
  /** What the CSV download is named after. */
  readonly name: string;
  readonly columns: readonly string[];
  readonly cells: (item: T) => readonly (string | number)[];
  readonly cursor: CursorCodec<C>;
}

/** A CSV body: the header row, then every row the pages give, read batch by batch as the client takes them. */
function csvBody<T, C>({ columns, cells }: Listing<T, C>, page: (after: C | undefined) => Promise<HistoryPage<T, C>>): Readable {
  async function* lines(): AsyncGenerator<string> {
    yield csvLine(columns);
    let chunk = '';
    for await (const item of everyRow(page)) {
      chunk += csvLine(cells(item));
      if (chunk.length >= 64 * 1024) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk !== '') yield chunk;
  }
  return Readable.from(lines(), { objectMode: false });
}

const ORDERS: Listing<Order, OrderCursor> = { name: 'orders', columns: ORDER_COLUMNS, cells: orderCells, cursor: timeIdCursor('createdAtMs', 'clientOrderId') };
const TRADES: Listing<Fill, TradeCursor> = { name: 'trades', columns: TRADE_COLUMNS, cells: tradeCells, cursor: timeIdCursor('atMs', 'fillId') };
const ALERTS: Listing<StoredRiskAlert, number> = { name: 'risk-alerts', columns: ALERT_COLUMNS, cells: alertCells, cursor: ID_CURSOR };

/**
 * Answers a list request: every row as a CSV download when asked for, else the page of `limit`
 * (default 100) after the query's cursor. `read` reads one page of the filtered list.
 */
async function answerList<T, C, Sent>(
  listing: Listing<T, C>,
  request: {
    readonly query: { readonly format?: string | undefined; readonly cursor?: string | undefined; readonly limit?: number | undefined };
    readonly headers: { readonly accept?: string | undefined };
  },
  reply: { header(name: string, value: string): unknown; send(body: Readable): Sent },
  read: (page: { readonly limit: number; readonly after?: C }) => Promise<HistoryPage<T, C>>,
): Promise<Sent | { items: T[]; nextCursor: string | null }> {
  const { query } = request;
  const readPage = (limit: number, after: C | undefined) => read({ limit, ...(after === undefined ? {} : { after }) });
  if (wantsCsv(query.format, request.headers.accept)) {
    attachment(reply, listing.name);
    return reply.send(csvBody(listing, (after: C | undefined) => readPage(EXPORT_BATCH, after)));
  }
  const page = await readPage(query.limit ?? 100, decodeCursor(query.cursor, listing.cursor.fromValue));
  return { items: page.items, nextCursor: page.next === undefined ? null : encodeCursor(listing.cursor.toValue(page.next)) };
}

/** The portfolios a caller may read: undefined for every one (admins). */
async function portfoliosOf(ctx: GatewayContext, request: { readonly principal: Principal | null }): Promise<readonly string[] | undefined> {
  if (request.principal?.role === 'admin') return undefined;
  const readable = await ctx.readablePortfolios(request.principal);
  return ctx.runtime.description.portfolioIds.filter(readable);
}

/**
 * What the filters of orders and of trades share, from the query: portfolio, strategy, symbol,
 * side and time range, within the portfolios the caller may read.
 */
async function tradeFilter(
  ctx: GatewayContext,
  request: { readonly query: Static<typeof TradesQuery>; readonly principal: Principal | null },
): Promise<TradeListFilter> {
  const { query } = request;
  const filter = {
    ...(query.portfolio === undefined ? {} : { portfolioId: query.portfolio }),
    ...(query.strategy === undefined ? {} : { strategyId: query.strategy }),
    ...(query.symbol === undefined ? {} : { symbol: query.symbol }),
    ...(query.side === undefined ? {} : { side: query.side }),
    ...timeRange(query),
  };
  const portfolios = await portfoliosOf(ctx, request);
  return portfolios === undefined ? filter : { ...filter, portfolios };
}

/** The headers of a CSV download named after `what` and the time. */
function attachment(reply: { header(name: string, value: string): unknown }, what: string): void {
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  reply.header('content-type', 'text/csv; charset=utf-8');
  reply.header('content-disposition', `attachment; filename="troupe-${what}-${stamp}.csv"`);
  reply.header('cache-control', 'no-store');
}

/**
 * The trading record from the database (`ctx.history`): orders, trades and risk alerts, newest
 * first, filtered, keyset-paged, or whole as CSV; acknowledging an alert; each strategy's book.
 */
export const historyRoutes = routesOf(orderHistoryRoutes, riskAlertRoutes, strategyBookRoute);

/** Orders and fills from the record: filtered, keyset-paged, or whole as CSV; one order by id. */
function orderHistoryRoutes(app: GatewayInstance, ctx: GatewayContext): void {
  const { history } = ctx;

  app.get(
    '/api/v1/orders',
    orderRoute('viewer', {
      summary: 'Orders, newest first, from the record (every day traded, not only this session): filtered, cursor-paginated, or all as CSV',
      querystring: OrdersQuery,
      response: { 200: Page(OrderSchema) },
      errors: [503],
    }),
    async (request, reply) => {
      const { status } = request.query;
      const filter = { ...(await tradeFilter(ctx, request)), ...(status === undefined ? {} : { status: status as OrderStatus }) };
      return answerList(ORDERS, request, reply, (page) => history.orders(filter, page));
    },
  );

  app.get(
    '/api/v1/orders/:id',
    orderRoute('viewer', { summary: 'One order by client order id (from the record)', params: IdParams, response: { 200: OrderSchema }, errors: [404] }),
    async (request) => {
      const order = await history.order(request.params.id);
      if (!order) throw new ApiError(404, 'not-found', `no order ${request.params.id}`);
      await ctx.authorizePortfolio(request, order.portfolioId, 'read', 'order.read', order.clientOrderId);
      return order;
    },
  );

  app.get(
    '/api/v1/trades',
    orderRoute('viewer', {
      summary: 'Fills, newest first, from the record: filtered, cursor-paginated, or all as CSV',
      querystring: TradesQuery,
      response: { 200: Page(FillSchema) },
    }),
    async (request, reply) => {
      const filter = await tradeFilter(ctx, request);
      return answerList(TRADES, request, reply, (page) => history.trades(filter, page));
    },
  );
}

/** Risk alerts from the record (paged or CSV) and acknowledging one. */
function riskAlertRoutes(app: GatewayInstance, ctx: GatewayContext): void {
  const { history } = ctx;

  app.get(
    '/api/v1/risk/alerts',
    riskRoute('viewer', {
      summary: 'Risk alerts, newest first, from the record: one row per (code, subject) and minute with its count; filtered, cursor-paginated, or all as CSV',
      querystring: RiskAlertsQuery,
      response: { 200: Page(StoredRiskAlertSchema) },
    }),
    async (request, reply) => {
      const query = request.query;
      const filter = {
        ...(query.severity === undefined ? {} : { severity: query.severity }),
        ...(query.code === undefined ? {} : { code: query.code }),
        ...(query.strategy === undefined ? {} : { strategyId: query.strategy }),
        ...(query.symbol === undefined ? {} : { symbol: query.symbol }),
        ...(query.acknowledged === undefined ? {} : { acknowledged: query.acknowledged }),
        ...timeRange(query),
      };
      return answerList(ALERTS, request, reply, (page) => history.alerts(filter, page));
    },
  );

  app.post(
    '/api/v1/risk/alerts/:id/ack',
    riskRoute('trader', {
      summary: 'Acknowledge a risk alert (journaled and audited: who and when). A later repeat of the same alert opens a new row.',
      params: Type.Object({ id: Type.Integer({ minimum: 1, description: 'the alert id from GET /api/v1/risk/alerts' }) }),
      body: Type.Union(
        [
          Type.Null(),
          Type.Object({ note: Type.Optional(Type.String({ maxLength: 500, description: 'why, for the record' })) }, { additionalProperties: false }),
        ],
        { description: 'optional' },
      ),
      response: {
        200: Type.Object({ alertId: Type.Integer(), acknowledgedBy: Type.String(), acknowledgedAtMs: Type.Integer(), note: Type.Optional(Type.String()) }),
      },
      errors: [404, 409],
    }),
    async (request) => {
      const alertId = request.params.id;
      const by = request.principal?.name ?? 'anonymous';
      const note = request.body?.note;
      const result = await history.acknowledgeAlert(alertId, by, Date.now(), note);
      if (result.outcome === 'not-found') {
        ctx.record(request, { action: 'risk.alert.ack', target: String(alertId), outcome: 'failed', details: { reason: 'no such alert' } });
        throw new ApiError(404, 'not-found', `no risk alert ${alertId}`);
      }
      if (result.outcome === 'already') {
        ctx.record(request, {
          action: 'risk.alert.ack',
          target: String(alertId),
          outcome: 'failed',
          details: { reason: 'already acknowledged', by: result.acknowledgement.by },
        });
        throw new ApiError(
          409,
          'conflict',
          `risk alert ${alertId} was already acknowledged by ${result.acknowledgement.by} at ${iso(result.acknowledgement.atMs)}`,
        );
      }
      ctx.record(request, { action: 'risk.alert.ack', target: String(alertId), outcome: 'ok', details: note === undefined ? {} : { note } });
      const ack = result.acknowledgement;
      return { alertId, acknowledgedBy: ack.by, acknowledgedAtMs: ack.atMs, ...(ack.note === undefined ? {} : { note: ack.note }) };
    },
  );
}

/** Each strategy's book over every fill in the record. */
function strategyBookRoute(app: GatewayInstance, ctx: GatewayContext): void {
  const { history } = ctx;

  app.get(
    '/api/v1/history/strategy-books',
    strategyRoute('viewer', {
      summary: "Each strategy's book over every fill in the record (survives restarts): fills, turnover, charges, cash flow, open quantities",
      response: {
        200: Type.Object({
          items: Type.Array(StrategyBookSchema),
          recentFillIds: Type.Array(Type.String(), { description: 'ids of the newest fills counted (a live view adds later fills only)' }),
          source: Type.Enum(['database', 'session']),
        }),
      },
    }),
    async (request) => {
      const books = await history.strategyBooks(await portfoliosOf(ctx, request));
      return { ...books, source: history.source };
    },
  );
}
