import type { Fill, Order, RiskAlert } from '../model/index.js';

/** A fill as the session store keeps it, with its arrival number (the cursor). */
export interface StoredFill {
  readonly seq: number;
  readonly fill: Fill;
}

/**
 * What the gateway remembers of the session until persistence lands: the last fills (a
 * bounded ring, newest kept) and the latest version of recent orders (for WebSocket
 * snapshots). Fed from the event bus; the journal of the persistence work replaces it.
 */
export class SessionStore {
  private readonly fills: StoredFill[] = [];
  private fillSeq = 0;
  private readonly orders = new Map<string, Order>();
  private readonly alerts: RiskAlert[] = [];

  constructor(
    private readonly fillCapacity = 50_000,
    private readonly orderCapacity = 5_000,
    private readonly alertCapacity = 200,
  ) {}

  /** Keeps a risk alert (the last `alertCapacity`, for WebSocket snapshots). */
  addRiskAlert(alert: RiskAlert): void {
    this.alerts.push(alert);
    if (this.alerts.length > this.alertCapacity) this.alerts.splice(0, this.alerts.length - this.alertCapacity);
  }

  /** The most recent risk alerts, oldest first (at most `alertCapacity`). */
  recentRiskAlerts(): RiskAlert[] {
    return [...this.alerts];
  }

  addFill(fill: Fill): void {
    this.fillSeq += 1;
    this.fills.push({ seq: this.fillSeq, fill });
    if (this.fills.length > this.fillCapacity * 1.1) this.fills.splice(0, this.fills.length - this.fillCapacity);
  }

  /** The fills kept, oldest first. */
  allFills(): Fill[] {
    return this.fills.map((stored) => stored.fill);
  }

  updateOrder(order: Order): void {
    this.orders.delete(order.clientOrderId);
    this.orders.set(order.clientOrderId, order);
    if (this.orders.size > this.orderCapacity) {
      const oldest = this.orders.keys().next();
      if (!oldest.done) this.orders.delete(oldest.value);
    }
  }

  /** Recent orders, most recently changed last; with `limit`, only the last `limit` of them. */
  recentOrders(limit?: number): Order[] {
    const all = [...this.orders.values()];
    return limit === undefined || all.length <= limit ? all : all.slice(all.length - limit);
  }

  /** Fills newest first, before the cursor (a fill seq), filtered. */
  queryFills(filter: {
    readonly symbol?: string | undefined;
    readonly strategy?: string | undefined;
    readonly beforeSeq?: number | undefined;
    readonly limit: number;
    readonly portfolio?: (portfolioId: string) => boolean;
  }): { items: Fill[]; nextCursor: number | null } {
    const items: Fill[] = [];
    let last: number | null = null;
    let more = false;
    for (let i = this.fills.length - 1; i >= 0; i -= 1) {
      const stored = this.fills[i]!;
      if (filter.beforeSeq !== undefined && stored.seq >= filter.beforeSeq) continue;
      if (filter.symbol !== undefined && stored.fill.symbol !== filter.symbol) continue;
      if (filter.strategy !== undefined && stored.fill.strategyId !== filter.strategy) continue;
      if (filter.portfolio !== undefined && !filter.portfolio(stored.fill.portfolioId)) continue;
      if (items.length === filter.limit) {
        more = true;
        break;
      }
      items.push(stored.fill);
      last = stored.seq;
    }
    return { items, nextCursor: more ? last : null };
  }
}
