import type { Order, RiskAlert } from '../model/index.js';

/** Orders a WebSocket snapshot of `orders` carries, and so the orders the session store keeps. */
export const SNAPSHOT_ORDERS = 500;

/**
 * What the gateway keeps of the session for WebSocket snapshots, fed from the event bus: the
 * latest version of the most recently changed orders and the last risk alerts, both bounded.
 * The record (orders, trades, alerts over the day) is the history's: `SqlHistory` in the
 * database, or {@link SessionHistory} in memory for a gateway without one.
 */
export class SessionStore {
  private readonly orders = new Map<string, Order>();
  private readonly alerts: RiskAlert[] = [];

  constructor(
    private readonly orderCapacity = SNAPSHOT_ORDERS,
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

  /** Keeps an order's latest version as the most recently changed (the last `orderCapacity` orders). */
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
}
