import type { Paise } from './money.js';
import type { Product, Side } from './order.js';

/** One execution (Kite's "trade"). Immutable once made; the journal keeps every one. */
export interface Fill {
  readonly type: 'fill';
  /** Unique per broker; the paper broker numbers them. */
  readonly fillId: string;
  readonly clientOrderId: string;
  readonly brokerOrderId: string;
  readonly portfolioId: string;
  readonly strategyId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly product: Product;
  readonly quantity: number;
  readonly pricePaise: Paise;
  /** Statutory charges and brokerage for this fill (see charges.ts). */
  readonly chargesPaise: Paise;
  readonly atMs: number;
}

/** Quantity with sign: + for buys, − for sells. */
export function signedQuantity(fill: Pick<Fill, 'side' | 'quantity'>): number {
  return fill.side === 'BUY' ? fill.quantity : -fill.quantity;
}
