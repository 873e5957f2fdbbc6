/**
 * The trading record as the API reads it: orders, trades and risk alerts from the query tables
 * the journal projects (`orders`, `trades`, `risk_alerts`), newest first, filtered, paged with
 * keyset cursors, and each strategy's book (fills, turnover, charges, cash flow and open
 * quantities) summed from `trades`. One service, {@link HistoryQueries}, so the gateway reads the
 * record through a port: {@link SqlHistory} here (PostgreSQL or PGlite); an in-memory one of the
 * session for a gateway without a database.
 *
 * `bench/history.bench.ts` measures a filtered page and a CSV export of 100k orders.
 */
import type { AlertSighting, Fill, Order, RiskSeverity, Side } from '../model/index.js';
import type { Queryable } from './database.js';
import { fillOfRow, TRADE_COLUMNS, type TradeRow } from './trade-rows.js';
import { findOrder, listOrders, MAX_ORDER_BATCH, type OrderCursor, type OrderListFilter } from './order-queries.js';
import type { AcknowledgeOutcome, RiskAlertJournal } from './risk-alert-journal.js';

/** Which fills to list (every given field must match). */
export interface TradeListFilter {
  readonly portfolioId?: string;
  readonly strategyId?: string;
  readonly symbol?: string;
  readonly side?: Side;
  /** Executed at or after (epoch ms). */
  readonly fromMs?: number;
  /** Executed before (epoch ms). */
  readonly toMs?: number;
  /** Only these portfolios (the caller's readable ones); undefined: any. */
  readonly portfolios?: readonly string[];
}

/** Where a page of trades starts: just after this fill, newest first. */
export interface TradeCursor {
  readonly atMs: number;
  readonly fillId: string;
}

/** Which risk alerts to list. */
export interface AlertListFilter {
  readonly severity?: RiskSeverity;
  readonly code?: string;
  readonly strategyId?: string;
  readonly symbol?: string;
  /** true: acknowledged only; false: open only. */
  readonly acknowledged?: boolean;
  /** Last seen (market time) at or after / before (epoch ms). */
  readonly fromMs?: number;
  readonly toMs?: number;
}

/** A strategy's book while fills are summed into it: the summary, plus net quantity and last price per symbol. */
export type StrategyBookAccumulator = { -readonly [K in keyof StrategyBookSummary]: StrategyBookSummary[K] } & {
  net: Record<string, number>;
  lastPricePaise: Record<string, number>;
};

/** A strategy's book before its first fill. */
function emptyStrategyBook(strategyId: string): StrategyBookAccumulator {
  return {
    strategyId,
    fills: 0,
    buyQuantity: 0,
    sellQuantity: 0,
    turnoverPaise: 0,
    chargesPaise: 0,
    cashFlowPaise: 0,
    net: {},
    lastPricePaise: {},
    lastFillAtMs: 0,
  };
}

/** A part of a strategy's book on one symbol: one fill, or the sum of the strategy's fills in the symbol (`lastPricePaise`: of its last fill). */
export type StrategyBookPart = Omit<StrategyBookSummary, 'net' | 'lastPricePaise'> & { readonly symbol: string; readonly lastPricePaise: number };

/** Sums parts into one book per strategy, in the order given (a later part's last price wins), books in order of their first part. */
export function foldStrategyBooks(parts: Iterable<StrategyBookPart>): StrategyBookAccumulator[] {
  const books = new Map<string, StrategyBookAccumulator>();
  for (const part of parts) {
    let book = books.get(part.strategyId);
    if (!book) {
      book = emptyStrategyBook(part.strategyId);
      books.set(part.strategyId, book);
    }
    book.fills += part.fills;
    book.buyQuantity += part.buyQuantity;
    book.sellQuantity += part.sellQuantity;
    book.turnoverPaise += part.turnoverPaise;
    book.chargesPaise += part.chargesPaise;
    book.cashFlowPaise += part.cashFlowPaise;
    book.net[part.symbol] = (book.net[part.symbol] ?? 0) + part.buyQuantity - part.sellQuantity;
    book.lastPricePaise[part.symbol] = part.lastPricePaise;
    book.lastFillAtMs = Math.max(book.lastFillAtMs, part.lastFillAtMs);
  }
  return [...books.values()];
}

/** A risk alert row: one (code, subject) within its window, with its count and acknowledgement. */
export interface StoredRiskAlert extends AlertSighting {
  readonly id: number;
  readonly acknowledgedBy?: string;
  readonly acknowledgedAtMs?: number;
  readonly acknowledgedNote?: string;
}

/** A strategy's record summed from its fills (exact paise). */
export interface StrategyBookSummary {
  readonly strategyId: string;
  readonly fills: number;
  readonly buyQuantity: number;
  readonly sellQuantity: number;
  /** Σ quantity × price. */
  readonly turnoverPaise: number;
  readonly chargesPaise: number;
  /** Σ sells − Σ buys − charges. */
  readonly cashFlowPaise: number;
  /** Net quantity per symbol (0 for a closed one). */
  readonly net: Readonly<Record<string, number>>;
  /** Price of the last fill per symbol (to mark an open quantity without a live quote). */
  readonly lastPricePaise: Readonly<Record<string, number>>;
  readonly lastFillAtMs: number;
}

/** A page, newest first; `next` undefined on the last one. */
export interface HistoryPage<T, C> {
  readonly items: T[];
  readonly next?: C;
}

/** Most rows per query of an export. */
export const EXPORT_BATCH = 2_000;

/** The record, as the gateway reads it. */
export interface HistoryQueries {
  /** Where the record comes from: the database, or the running process only. */
  readonly source: 'database' | 'session';
  orders(
    filter: OrderListFilter & { readonly portfolios?: readonly string[] },
    page: { readonly limit: number; readonly after?: OrderCursor },
  ): Promise<HistoryPage<Order, OrderCursor>>;
  order(clientOrderId: string): Promise<Order | undefined>;
  trades(filter: TradeListFilter, page: { readonly limit: number; readonly after?: TradeCursor }): Promise<HistoryPage<Fill, TradeCursor>>;
  alerts(filter: AlertListFilter, page: { readonly limit: number; readonly after?: number }): Promise<HistoryPage<StoredRiskAlert, number>>;
  /** Every strategy's book, summed over all its fills; with the ids of the newest fills (so a live view does not count them twice). */
  strategyBooks(portfolios?: readonly string[]): Promise<{ readonly items: StrategyBookSummary[]; readonly recentFillIds: string[] }>;
  acknowledgeAlert(alertId: number, by: string, atMs: number, note?: string): Promise<AcknowledgeOutcome>;
}

/** Every row of a paged list, batch by batch (the export's source): one query per `EXPORT_BATCH` rows. */
export async function* everyRow<T, C>(page: (after: C | undefined) => Promise<HistoryPage<T, C>>): AsyncGenerator<T> {
  let after: C | undefined;
  for (;;) {
    const result = await page(after);
    yield* result.items;
    if (result.next === undefined) return;
    after = result.next;
  }
}

interface AlertRow {
  id: number;
  code: string;
  subject: string;
  severity: string;
  message: string;
  strategy_id: string | null;
  symbol: string | null;
  count: number;
  first_at_ms: number;
  last_at_ms: number;
  first_seen_ms: number;
  last_seen_ms: number;
  acknowledged_by: string | null;
  acknowledged_at_ms: number | null;
  acknowledged_note: string | null;
}

const ms = (column: string, as: string): string => `(extract(epoch FROM ${column}) * 1000)::bigint AS ${as}`;
const isoOf = (epochMs: number): string => new Date(epochMs).toISOString();

function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_ORDER_BATCH) throw new RangeError(`limit must be an integer from 1 to ${MAX_ORDER_BATCH}`);
}

/** A WHERE builder with numbered parameters. */
class Where {
  readonly parts: string[] = [];
  readonly params: unknown[] = [];
  bind(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }
  add(part: string): void {
    this.parts.push(part);
  }
  toString(): string {
    return this.parts.length === 0 ? '' : ` WHERE ${this.parts.join(' AND ')}`;
  }
}

/** {@link HistoryQueries} over the query tables (PostgreSQL or PGlite). */
export class SqlHistory implements HistoryQueries {
  readonly source = 'database' as const;

  constructor(
    private readonly db: Queryable,
    private readonly alertJournal?: RiskAlertJournal,
  ) {}

  async orders(
    filter: OrderListFilter & { readonly portfolios?: readonly string[] },
    page: { readonly limit: number; readonly after?: OrderCursor },
  ): Promise<HistoryPage<Order, OrderCursor>> {
    const { portfolios, ...rest } = filter;
    if (portfolios !== undefined) {
      // a caller who reads some portfolios only: the one asked for must be one of them
      if (rest.portfolioId !== undefined && !portfolios.includes(rest.portfolioId)) return { items: [] };
      if (rest.portfolioId === undefined) {
        if (portfolios.length === 0) return { items: [] };
        if (portfolios.length > 1) return this.ordersOf(portfolios, rest, page);
        return listOrders(this.db, { ...rest, portfolioId: portfolios[0]! }, page);
      }
    }
    return listOrders(this.db, rest, page);
  }

  /** Several portfolios: one page per portfolio, merged (each served by its index). */
  private async ordersOf(
    portfolios: readonly string[],
    filter: OrderListFilter,
    page: { readonly limit: number; readonly after?: OrderCursor },
  ): Promise<HistoryPage<Order, OrderCursor>> {
    const pages = await Promise.all(portfolios.map((portfolioId) => listOrders(this.db, { ...filter, portfolioId }, page)));
    const all = pages
      .flatMap((one) => one.items)
      .sort((a, b) => b.createdAtMs - a.createdAtMs || (a.clientOrderId < b.clientOrderId ? 1 : a.clientOrderId > b.clientOrderId ? -1 : 0));
    const items = all.slice(0, page.limit);
    const last = items.at(-1);
    const more = all.length > page.limit || pages.some((one) => one.next !== undefined);
    return more && last ? { items, next: { createdAtMs: last.createdAtMs, clientOrderId: last.clientOrderId } } : { items };
  }

  order(clientOrderId: string): Promise<Order | undefined> {
    return findOrder(this.db, clientOrderId);
  }

  async trades(filter: TradeListFilter, page: { readonly limit: number; readonly after?: TradeCursor }): Promise<HistoryPage<Fill, TradeCursor>> {
    checkLimit(page.limit);
    if (filter.portfolios !== undefined && filter.portfolios.length === 0) return { items: [] };
    const where = new Where();
    if (filter.portfolioId !== undefined) where.add(`portfolio_id = ${where.bind(filter.portfolioId)}`);
    if (filter.portfolios !== undefined) where.add(`portfolio_id = ANY(${where.bind(filter.portfolios)}::text[])`);
    if (filter.strategyId !== undefined) where.add(`strategy_id = ${where.bind(filter.strategyId)}`);
    if (filter.symbol !== undefined) where.add(`symbol = ${where.bind(filter.symbol)}`);
    if (filter.side !== undefined) where.add(`side = ${where.bind(filter.side)}`);
    if (filter.fromMs !== undefined) where.add(`executed_at >= ${where.bind(isoOf(filter.fromMs))}::timestamptz`);
    if (filter.toMs !== undefined) where.add(`executed_at < ${where.bind(isoOf(filter.toMs))}::timestamptz`);
    if (page.after !== undefined) {
      const at = where.bind(isoOf(page.after.atMs));
      const id = where.bind(page.after.fillId);
      where.add(`executed_at <= ${at}::timestamptz AND (executed_at, fill_id) < (${at}::timestamptz, ${id})`);
    }
    const rows = await this.db.query<TradeRow>(
      `SELECT ${TRADE_COLUMNS}, ${ms('executed_at', 'at_ms')}
         FROM trades${where.toString()} ORDER BY executed_at DESC, fill_id DESC LIMIT ${page.limit + 1}`,
      where.params,
    );
    const items: Fill[] = rows.slice(0, page.limit).map(fillOfRow);
    const last = items.at(-1);
    return rows.length > page.limit && last ? { items, next: { atMs: last.atMs, fillId: last.fillId } } : { items };
  }

  async alerts(filter: AlertListFilter, page: { readonly limit: number; readonly after?: number }): Promise<HistoryPage<StoredRiskAlert, number>> {
    checkLimit(page.limit);
    const where = new Where();
    if (filter.severity !== undefined) where.add(`severity = ${where.bind(filter.severity)}`);
    if (filter.code !== undefined) where.add(`code = ${where.bind(filter.code)}`);
    if (filter.strategyId !== undefined) where.add(`strategy_id = ${where.bind(filter.strategyId)}`);
    if (filter.symbol !== undefined) where.add(`symbol = ${where.bind(filter.symbol)}`);
    if (filter.acknowledged !== undefined) where.add(filter.acknowledged ? 'acknowledged_at IS NOT NULL' : 'acknowledged_at IS NULL');
    if (filter.fromMs !== undefined) where.add(`last_at >= ${where.bind(isoOf(filter.fromMs))}::timestamptz`);
    if (filter.toMs !== undefined) where.add(`first_at < ${where.bind(isoOf(filter.toMs))}::timestamptz`);
    if (page.after !== undefined) where.add(`id < ${where.bind(page.after)}`);
    const rows = await this.db.query<AlertRow>(
      `SELECT id, code, subject, severity, message, strategy_id, symbol, count, ${ms('first_at', 'first_at_ms')}, ${ms('last_at', 'last_at_ms')},
              ${ms('first_seen', 'first_seen_ms')}, ${ms('last_seen', 'last_seen_ms')}, acknowledged_by, ${ms('acknowledged_at', 'acknowledged_at_ms')}, acknowledged_note
         FROM risk_alerts${where.toString()} ORDER BY id DESC LIMIT ${page.limit + 1}`,
      where.params,
    );
    const items: StoredRiskAlert[] = rows.slice(0, page.limit).map((row) => ({
      id: Number(row.id),
      code: row.code,
      subject: row.subject,
      severity: row.severity as RiskSeverity,
      message: row.message,
      ...(row.strategy_id === null ? {} : { strategyId: row.strategy_id }),
      ...(row.symbol === null ? {} : { symbol: row.symbol }),
      count: row.count,
      firstAtMs: Number(row.first_at_ms),
      lastAtMs: Number(row.last_at_ms),
      firstSeenMs: Number(row.first_seen_ms),
      lastSeenMs: Number(row.last_seen_ms),
      ...(row.acknowledged_by === null ? {} : { acknowledgedBy: row.acknowledged_by }),
      ...(row.acknowledged_at_ms === null ? {} : { acknowledgedAtMs: Number(row.acknowledged_at_ms) }),
      ...(row.acknowledged_note === null ? {} : { acknowledgedNote: row.acknowledged_note }),
    }));
    const last = items.at(-1);
    return rows.length > page.limit && last ? { items, next: last.id } : { items };
  }

  async strategyBooks(portfolios?: readonly string[]): Promise<{ readonly items: StrategyBookSummary[]; readonly recentFillIds: string[] }> {
    if (portfolios !== undefined && portfolios.length === 0) return { items: [], recentFillIds: [] };
    const where = portfolios === undefined ? '' : ' WHERE portfolio_id = ANY($1::text[])';
    const params = portfolios === undefined ? [] : [portfolios];
    const rows = await this.db.query<{
      strategy_id: string;
      symbol: string;
      fills: number;
      buy_quantity: number;
      sell_quantity: number;
      turnover: number;
      charges: number;
      cash: number;
      last_price: number;
      last_ms: number;
    }>(
      `SELECT strategy_id, symbol, count(*)::int AS fills,
              COALESCE(sum(quantity) FILTER (WHERE side = 'BUY'), 0)::bigint AS buy_quantity,
              COALESCE(sum(quantity) FILTER (WHERE side = 'SELL'), 0)::bigint AS sell_quantity,
              sum(quantity::bigint * price_paise)::bigint AS turnover,
              sum(charges_paise)::bigint AS charges,
              sum(CASE WHEN side = 'SELL' THEN quantity::bigint * price_paise ELSE -(quantity::bigint * price_paise) END - charges_paise)::bigint AS cash,
              (array_agg(price_paise ORDER BY executed_at DESC, id DESC))[1] AS last_price,
              (extract(epoch FROM max(executed_at)) * 1000)::bigint AS last_ms
         FROM trades${where} GROUP BY strategy_id, symbol ORDER BY strategy_id, symbol`,
      params,
    );
    const items = foldStrategyBooks(
      rows.map((row) => ({
        strategyId: row.strategy_id,
        symbol: row.symbol,
        fills: row.fills,
        buyQuantity: Number(row.buy_quantity),
        sellQuantity: Number(row.sell_quantity),
        turnoverPaise: Number(row.turnover),
        chargesPaise: Number(row.charges),
        cashFlowPaise: Number(row.cash),
        lastPricePaise: Number(row.last_price),
        lastFillAtMs: Number(row.last_ms),
      })),
    );
    const recent = await this.db.query<{ fill_id: string }>(`SELECT fill_id FROM trades${where} ORDER BY id DESC LIMIT 1000`, params);
    return { items, recentFillIds: recent.map((row) => row.fill_id) };
  }

  acknowledgeAlert(alertId: number, by: string, atMs: number, note?: string): Promise<AcknowledgeOutcome> {
    if (!this.alertJournal) return Promise.reject(new Error('risk alerts are not journaled in this process'));
    return this.alertJournal.acknowledge(alertId, by, atMs, note);
  }
}
