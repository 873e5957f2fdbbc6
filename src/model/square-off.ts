/**
 * Zerodha's intraday (MIS) auto square-off, as rules (kite-reference §9): from the cut-off
 * (15:20 IST, changeable by RMS bulletin, so configurable) every open MIS position is closed
 * by the broker at market, in orders of at most {@link MAX_SQUARE_OFF_ORDER_QUANTITY} units,
 * each charged the call-and-trade fee (₹50 + 18 % GST) on top of the normal charges; no
 * fresh MIS order is accepted after the cut-off for the rest of that IST day. Pure: the paper
 * broker (Troupe's emulation of Zerodha's RMS), the risk manager and the Kite simulator apply them.
 */
import { AUTO_SQUARE_OFF_REASON } from './charges.js';
import type { Order } from './order.js';
import { istDayStartMs, istMinuteOfDay, MIS_SQUARE_OFF_MINUTE, MINUTE_MS } from './time.js';

// `AUTO_SQUARE_OFF_REASON` ('auto-square-off'), the reason of every square-off order, lives in
// charges.ts: an order with that reason pays the call-and-trade fee.

/** The stable code of an MIS order refused after the cut-off (risk and broker). */
export const MIS_CUTOFF_CODE = 'mis-cutoff';

/** Largest quantity of one square-off order. */
export const MAX_SQUARE_OFF_ORDER_QUANTITY = 30_000;

/** The default cut-off, minutes after IST midnight (15:20). */
export const DEFAULT_SQUARE_OFF_MINUTE = MIS_SQUARE_OFF_MINUTE;

/** "HH:MM" (IST) as minutes after midnight; throws a RangeError naming the problem. */
export function parseSquareOffTime(text: string): number {
  const match = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  if (!match) throw new RangeError(`a square-off time must look like "15:20" (IST, 24-hour), got "${text}"`);
  return Number(match[1]) * 60 + Number(match[2]);
}

/** Minutes after IST midnight as "HH:MM". */
export function formatSquareOffTime(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}

/** The instant of the cut-off on the IST day containing `atMs`. */
export function squareOffInstantMs(atMs: number, minute: number = DEFAULT_SQUARE_OFF_MINUTE): number {
  return istDayStartMs(atMs) + minute * MINUTE_MS;
}

/** True from the cut-off to the end of that IST day: no fresh MIS order then. */
export function isPastMisCutoff(atMs: number, minute: number = DEFAULT_SQUARE_OFF_MINUTE): boolean {
  return istMinuteOfDay(atMs) >= minute;
}

/** The message of a refused MIS order after the cut-off. */
export function misCutoffMessage(minute: number = DEFAULT_SQUARE_OFF_MINUTE): string {
  return `no new MIS orders after ${formatSquareOffTime(minute)} IST (intraday cut-off; open MIS positions are squared off by the broker)`;
}

/**
 * The quantities of the orders that close a position of `quantity` units (> 0): full orders
 * of {@link MAX_SQUARE_OFF_ORDER_QUANTITY} and the rest last, each a multiple of `lotSize`.
 */
export function squareOffSlices(quantity: number, lotSize = 1, maxPerOrder = MAX_SQUARE_OFF_ORDER_QUANTITY): number[] {
  if (!Number.isSafeInteger(quantity) || quantity <= 0) throw new RangeError(`a square-off needs a positive whole quantity, got ${quantity}`);
  const largest = maxPerOrder - (maxPerOrder % lotSize);
  if (largest <= 0) throw new RangeError(`lot size ${lotSize} exceeds the largest square-off order ${maxPerOrder}`);
  const slices: number[] = [];
  let left = quantity;
  while (left > largest) {
    slices.push(largest);
    left -= largest;
  }
  slices.push(left);
  return slices;
}

/** An open MIS position of one portfolio, strategy and symbol, as the square-off sees it. */
export interface MisNet {
  readonly portfolioId: string;
  readonly strategyId: string;
  readonly symbol: string;
  /** Signed units, never 0. */
  readonly net: number;
}

const misBookKey = (portfolioId: string, strategyId: string, symbol: string): string => `${portfolioId}\u0000${strategyId}\u0000${symbol}`;

/**
 * Moves an MIS book (open MIS positions by portfolio, strategy and symbol) by one fill; other
 * products leave it alone, a position that comes back to 0 leaves the book. Shared by the Kite
 * execution actor (which must know whose position Zerodha's RMS closes) and recovery (which
 * rebuilds the paper broker's list from the journal).
 */
export function applyMisFill(
  book: Map<string, MisNet>,
  fill: {
    readonly portfolioId: string;
    readonly strategyId: string;
    readonly symbol: string;
    readonly side: 'BUY' | 'SELL';
    readonly product: string;
    readonly quantity: number;
  },
): void {
  if (fill.product !== 'MIS') return;
  const key = misBookKey(fill.portfolioId, fill.strategyId, fill.symbol);
  const net = (book.get(key)?.net ?? 0) + (fill.side === 'BUY' ? fill.quantity : -fill.quantity);
  if (net === 0) book.delete(key);
  else book.set(key, { portfolioId: fill.portfolioId, strategyId: fill.strategyId, symbol: fill.symbol, net });
}

/** An MIS book from its positions (as kept in a snapshot or a journal checkpoint). */
export function misBookOf(positions: readonly MisNet[]): Map<string, MisNet> {
  return new Map(positions.filter((p) => p.net !== 0).map((p) => [misBookKey(p.portfolioId, p.strategyId, p.symbol), { ...p }]));
}

/**
 * The order of a square-off (the broker's own, reason `auto-square-off`): a working MIS MARKET
 * order that closes `quantity` of a strategy's position. `sequence` ends its intent id (the
 * paper broker's order number, or Kite's order id), which never collides with the strategy's
 * own intent numbering.
 */
export function squareOffOrder(fields: {
  readonly clientOrderId: string;
  readonly brokerOrderId: string;
  readonly sequence: string | number;
  readonly portfolioId: string;
  readonly strategyId: string;
  readonly symbol: string;
  readonly side: 'BUY' | 'SELL';
  readonly quantity: number;
  readonly atMs: number;
}): Order {
  return {
    clientOrderId: fields.clientOrderId,
    brokerOrderId: fields.brokerOrderId,
    intentId: `${fields.strategyId}:${AUTO_SQUARE_OFF_REASON}:${fields.sequence}`,
    strategyId: fields.strategyId,
    portfolioId: fields.portfolioId,
    symbol: fields.symbol,
    side: fields.side,
    orderType: 'MARKET',
    product: 'MIS',
    validity: 'DAY',
    quantity: fields.quantity,
    status: 'OPEN',
    filledQuantity: 0,
    cancelledQuantity: 0,
    filledValuePaise: 0,
    createdAtMs: fields.atMs,
    updatedAtMs: fields.atMs,
    reason: AUTO_SQUARE_OFF_REASON,
  };
}
