/**
 * What a trader is told, and when: domain events become notifications of a few kinds, each
 * with a severity, a one-line title and a few lines of text that read well in a chat, an
 * e-mail or a webhook consumer's log.
 */
import type { NotificationKind } from '../config/notifications.js';
import { assertNever, formatInr, type DomainEvent, type RiskSeverity } from '../model/index.js';

export type Severity = RiskSeverity;
const SEVERITY_RANK: Readonly<Record<Severity, number>> = { info: 0, warning: 1, critical: 2 };

/** `severity` is at least `floor`. */
export function atLeast(severity: Severity, floor: Severity): boolean {
  return SEVERITY_RANK[severity] >= SEVERITY_RANK[floor];
}

/**
 * Risk alert codes that mean trading stopped (or orders are refused) until someone acts: they
 * are sent as `halt`, the rest of the risk alerts as `risk`.
 */
export const HALT_CODES: ReadonlySet<string> = new Set(['kill-switch', 'broker-session-expired', 'journal-unavailable', 'feed-stalled', 'daily-loss']);

export interface Notification {
  readonly kind: NotificationKind;
  readonly severity: Severity;
  /** One line: what happened. */
  readonly title: string;
  /** A few lines of detail (plain text). */
  readonly text: string;
  /** When it happened (the event's time, epoch ms). */
  readonly atMs: number;
  /** What it is about, for grouping and digests: a symbol, an order id, an alert code. */
  readonly key: string;
  /** Machine-readable fields for webhook consumers. */
  readonly fields: Readonly<Record<string, string | number | boolean | null>>;
}

const paise = (value: number): string => formatInr(value);

/** The notification for a domain event, or undefined when the event is not one people are told about. */
export function toNotification(event: DomainEvent): Notification | undefined {
  switch (event.type) {
    case 'OrderFilled': {
      const { fill, order } = event;
      return {
        kind: 'fill',
        severity: 'info',
        title: `${fill.side} ${fill.quantity} ${fill.symbol} @ ${paise(fill.pricePaise)}`,
        text: `Order ${order.clientOrderId} (${order.strategyId}, ${order.product}) ${order.status === 'COMPLETE' ? 'filled' : `filled ${order.filledQuantity} of ${order.quantity}`}; charges ${paise(fill.chargesPaise)}.`,
        atMs: fill.atMs,
        key: order.clientOrderId,
        fields: {
          clientOrderId: order.clientOrderId,
          strategyId: order.strategyId,
          symbol: fill.symbol,
          side: fill.side,
          quantity: fill.quantity,
          pricePaise: fill.pricePaise,
          chargesPaise: fill.chargesPaise,
          product: order.product,
        },
      };
    }
    case 'OrderUpdated': {
      const { order } = event;
      if (order.status !== 'REJECTED') return undefined;
      return {
        kind: 'rejection',
        severity: 'warning',
        title: `Order rejected: ${order.side} ${order.quantity} ${order.symbol}`,
        text: `Order ${order.clientOrderId} (${order.strategyId}) was rejected: ${order.statusMessage ?? 'no reason given'}.`,
        atMs: order.updatedAtMs,
        key: order.clientOrderId,
        fields: {
          clientOrderId: order.clientOrderId,
          strategyId: order.strategyId,
          symbol: order.symbol,
          side: order.side,
          quantity: order.quantity,
          reason: order.statusMessage ?? null,
        },
      };
    }
    case 'RiskAlert': {
      const halt = HALT_CODES.has(event.code) && event.severity === 'critical';
      return {
        kind: halt ? 'halt' : 'risk',
        severity: event.severity,
        title: halt ? `Trading halted: ${event.code}` : `Risk ${event.severity}: ${event.code}`,
        text: event.message,
        atMs: event.atMs,
        key: event.code,
        fields: { code: event.code, severity: event.severity, strategyId: event.strategyId ?? null, symbol: event.symbol ?? null },
      };
    }
    case 'AutoSquareOff':
      return {
        kind: 'square-off',
        severity: 'warning',
        title: `Auto square-off: ${event.side} ${event.quantity} ${event.symbol}`,
        text: `The broker closed ${event.strategyId}'s MIS position in ${event.symbol} at the cut-off${event.late ? ' (late: no tick at the cut-off)' : ''}, in ${event.orders.length} order(s), each charged the call-and-trade fee.`,
        atMs: event.atMs,
        key: event.symbol,
        fields: {
          portfolioId: event.portfolioId,
          strategyId: event.strategyId,
          symbol: event.symbol,
          side: event.side,
          quantity: event.quantity,
          orders: event.orders.length,
          late: event.late,
        },
      };
    case 'ActorRestarted':
      return {
        kind: 'restart',
        severity: 'warning',
        title: `Actor restarted: ${event.path}`,
        text: `${event.path} failed and was restarted (${event.restarts} so far): ${event.reason}`,
        atMs: event.atMs,
        key: event.path,
        fields: { path: event.path, restarts: event.restarts, reason: event.reason },
      };
    case 'MarketDataUpdate':
    case 'BarClosed':
    case 'OrderSubmitted':
    case 'PositionChanged':
    case 'RegimeChanged':
    case 'SignalAggregated':
    case 'PredictionMade':
      return undefined;
    default:
      return assertNever(event, 'domain event');
  }
}

/** One summary for what a channel's rate limit held back: "fill ×40, risk ×5". */
export function digest(suppressed: ReadonlyMap<NotificationKind, number>, windowMs: number, atMs: number): Notification {
  const total = [...suppressed.values()].reduce((sum, n) => sum + n, 0);
  const parts = [...suppressed.entries()].map(([kind, n]) => `${kind} ×${n}`).join(', ');
  const worstHalt = suppressed.has('halt');
  return {
    kind: worstHalt ? 'halt' : 'risk',
    severity: worstHalt ? 'critical' : 'info',
    title: `${total} more notification${total === 1 ? '' : 's'} held back by the rate limit`,
    text: `In the last ${Math.round(windowMs / 1000)} s: ${parts}. See the desk or GET /api/v1/orders and /api/v1/risk for the details.`,
    atMs,
    key: 'digest',
    fields: { digest: true, total, ...Object.fromEntries([...suppressed.entries()].map(([kind, n]) => [`suppressed_${kind}`, n])) },
  };
}
