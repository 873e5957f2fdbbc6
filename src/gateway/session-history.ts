/**
 * {@link HistoryQueries} of the running process only, for a gateway without a database (tests,
 * embedding): orders from the execution actor (its last 10,000 finished ones and the working
 * ones), the last {@link FILL_ROWS} fills and risk alerts deduplicated the way `risk_alerts`
 * does it, both kept here. `npm start` uses `SqlHistory` (the record in
 * PostgreSQL or PGlite) instead.
 */
import { firstSighting, foldSighting, joinsSighting, sightingSubject, type Fill, type Mutable, type Order, type RiskAlert } from '../model/index.js';
import {
  foldStrategyBooks,
  type AlertListFilter,
  type HistoryPage,
  type HistoryQueries,
  type StoredRiskAlert,
  type StrategyBookSummary,
  type TradeCursor,
  type TradeListFilter,
} from '../persistence/history-queries.js';
import type { OrderCursor, OrderListFilter } from '../persistence/order-queries.js';
import { DEFAULT_ALERT_WINDOW_MS, type AcknowledgeOutcome } from '../persistence/risk-alert-journal.js';
import type { RuntimeFacade } from '../runtime/facade.js';

/** Alert rows kept in memory. */
const ALERT_ROWS = 1_000;

/** Fills kept in memory, newest kept: as many as the finished orders the execution actor keeps. */
export const FILL_ROWS = 10_000;

/** Newest first: by time, then id, descending. */
const newestFirst = (aMs: number, aId: string, bMs: number, bId: string): number => bMs - aMs || (aId < bId ? 1 : aId > bId ? -1 : 0);

/** Whether an order or a fill (at `atMs`: created, executed) passes what the filters of orders and of trades share. */
function passesTradeFilter(filter: TradeListFilter, row: Pick<Fill, 'portfolioId' | 'strategyId' | 'symbol' | 'side'>, atMs: number): boolean {
  return (
    (filter.portfolios === undefined || filter.portfolios.includes(row.portfolioId)) &&
    (filter.portfolioId === undefined || row.portfolioId === filter.portfolioId) &&
    (filter.strategyId === undefined || row.strategyId === filter.strategyId) &&
    (filter.symbol === undefined || row.symbol === filter.symbol) &&
    (filter.side === undefined || row.side === filter.side) &&
    (filter.fromMs === undefined || atMs >= filter.fromMs) &&
    (filter.toMs === undefined || atMs < filter.toMs)
  );
}

/** The session's record (see the module comment). */
export class SessionHistory implements HistoryQueries {
  readonly source = 'session' as const;
  private readonly rows: Mutable<StoredRiskAlert>[] = [];
  private nextId = 1;
  /** The last fills, a ring: `fillRing[(fillStart + i) % capacity]` is the i-th oldest. */
  private readonly fillRing: Fill[] = [];
  private fillStart = 0;

  constructor(
    private readonly runtime: Pick<RuntimeFacade, 'orders'>,
    private readonly options: { readonly nowMs?: () => number; readonly windowMs?: number; readonly fillCapacity?: number } = {},
  ) {}

  /** Keeps a fill (the last `fillCapacity`, default {@link FILL_ROWS}). */
  addFill(fill: Fill): void {
    const capacity = this.options.fillCapacity ?? FILL_ROWS;
    if (this.fillRing.length < capacity) this.fillRing.push(fill);
    else {
      this.fillRing[this.fillStart] = fill;
      this.fillStart = (this.fillStart + 1) % capacity;
    }
  }

  /** The fills kept, oldest first. */
  private allFills(): Fill[] {
    return this.fillStart === 0 ? this.fillRing.slice() : [...this.fillRing.slice(this.fillStart), ...this.fillRing.slice(0, this.fillStart)];
  }

  /** Folds an alert into the rows (the same rule as `risk_alerts`). */
  addAlert(alert: RiskAlert): void {
    const nowMs = (this.options.nowMs ?? Date.now)();
    const subject = sightingSubject(alert);
    const index = this.rows.findLastIndex((candidate) => candidate.code === alert.code && candidate.subject === subject);
    const row = this.rows[index];
    if (row && row.acknowledgedAtMs === undefined && joinsSighting(row, nowMs, this.options.windowMs ?? DEFAULT_ALERT_WINDOW_MS)) {
      this.rows[index] = foldSighting(row, alert, nowMs);
      return;
    }
    this.rows.push({ id: this.nextId++, ...firstSighting(alert, nowMs) });
    if (this.rows.length > ALERT_ROWS) this.rows.splice(0, this.rows.length - ALERT_ROWS);
  }

  private sessionOrders(): Promise<readonly Order[]> {
    return this.runtime.orders();
  }

  async orders(
    filter: OrderListFilter & { readonly portfolios?: readonly string[] },
    page: { readonly limit: number; readonly after?: OrderCursor },
  ): Promise<HistoryPage<Order, OrderCursor>> {
    const { after } = page;
    const all = (await this.sessionOrders())
      .filter(
        (order) =>
          passesTradeFilter(filter, order, order.createdAtMs) &&
          (filter.status === undefined || order.status === filter.status) &&
          (after === undefined || newestFirst(after.createdAtMs, after.clientOrderId, order.createdAtMs, order.clientOrderId) < 0),
      )
      .sort((a, b) => newestFirst(a.createdAtMs, a.clientOrderId, b.createdAtMs, b.clientOrderId));
    const items = all.slice(0, page.limit);
    const last = items.at(-1);
    return all.length > page.limit && last ? { items, next: { createdAtMs: last.createdAtMs, clientOrderId: last.clientOrderId } } : { items };
  }

  async order(clientOrderId: string): Promise<Order | undefined> {
    return (await this.sessionOrders()).find((order) => order.clientOrderId === clientOrderId);
  }

  private fills(filter: TradeListFilter): Fill[] {
    return this.allFills().filter((fill) => passesTradeFilter(filter, fill, fill.atMs));
  }

  trades(filter: TradeListFilter, page: { readonly limit: number; readonly after?: TradeCursor }): Promise<HistoryPage<Fill, TradeCursor>> {
    const { after } = page;
    const all = this.fills(filter)
      .filter((fill) => after === undefined || newestFirst(after.atMs, after.fillId, fill.atMs, fill.fillId) < 0)
      .sort((a, b) => newestFirst(a.atMs, a.fillId, b.atMs, b.fillId));
    const items = all.slice(0, page.limit);
    const last = items.at(-1);
    return Promise.resolve(all.length > page.limit && last ? { items, next: { atMs: last.atMs, fillId: last.fillId } } : { items });
  }

  alerts(filter: AlertListFilter, page: { readonly limit: number; readonly after?: number }): Promise<HistoryPage<StoredRiskAlert, number>> {
    const all = this.rows
      .filter(
        (row) =>
          (page.after === undefined || row.id < page.after) &&
          (filter.severity === undefined || row.severity === filter.severity) &&
          (filter.code === undefined || row.code === filter.code) &&
          (filter.strategyId === undefined || row.strategyId === filter.strategyId) &&
          (filter.symbol === undefined || row.symbol === filter.symbol) &&
          (filter.acknowledged === undefined || (row.acknowledgedAtMs !== undefined) === filter.acknowledged) &&
          (filter.fromMs === undefined || row.lastAtMs >= filter.fromMs) &&
          (filter.toMs === undefined || row.firstAtMs < filter.toMs),
      )
      .reverse();
    const items = all.slice(0, page.limit).map((row) => ({ ...row }));
    const last = items.at(-1);
    return Promise.resolve(all.length > page.limit && last ? { items, next: last.id } : { items });
  }

  strategyBooks(portfolios?: readonly string[]): Promise<{ readonly items: StrategyBookSummary[]; readonly recentFillIds: string[] }> {
    const fills = this.fills(portfolios === undefined ? {} : { portfolios }).sort((a, b) => a.atMs - b.atMs);
    const items = foldStrategyBooks(
      fills.map((fill) => {
        const value = fill.quantity * fill.pricePaise;
        const buy = fill.side === 'BUY';
        return {
          strategyId: fill.strategyId,
          symbol: fill.symbol,
          fills: 1,
          buyQuantity: buy ? fill.quantity : 0,
          sellQuantity: buy ? 0 : fill.quantity,
          turnoverPaise: value,
          chargesPaise: fill.chargesPaise,
          cashFlowPaise: (buy ? -value : value) - fill.chargesPaise,
          lastPricePaise: fill.pricePaise,
          lastFillAtMs: fill.atMs,
        };
      }),
    );
    return Promise.resolve({ items, recentFillIds: fills.slice(-1000).map((fill) => fill.fillId) });
  }

  acknowledgeAlert(alertId: number, by: string, atMs: number, note?: string): Promise<AcknowledgeOutcome> {
    const row = this.rows.find((candidate) => candidate.id === alertId);
    if (!row) return Promise.resolve({ outcome: 'not-found' });
    if (row.acknowledgedAtMs !== undefined) {
      return Promise.resolve({
        outcome: 'already',
        acknowledgement: {
          alertId,
          by: row.acknowledgedBy ?? '',
          atMs: row.acknowledgedAtMs,
          ...(row.acknowledgedNote === undefined ? {} : { note: row.acknowledgedNote }),
        },
      });
    }
    row.acknowledgedBy = by;
    row.acknowledgedAtMs = atMs;
    if (note !== undefined) row.acknowledgedNote = note;
    return Promise.resolve({ outcome: 'acknowledged', acknowledgement: { alertId, by, atMs, ...(note === undefined ? {} : { note }) } });
  }
}
