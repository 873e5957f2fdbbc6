import { mul, paiseToRupeeString, type OrderIntent, type Paise } from '../model/index.js';
import { RateWindow } from './rate-window.js';
import type { RiskRejectionCode } from './codes.js';

export type { RiskRejectionCode } from './codes.js';

/** Limits the minimal gate enforces on every intent. The full risk manager extends these. */
export interface RiskLimits {
  /** Largest value one order may carry (quantity × reference price). */
  readonly maxOrderValuePaise: Paise;
  readonly maxOrderQuantity: number;
  /** Largest absolute net position per portfolio and symbol, counting working orders. */
  readonly maxPositionQuantity: number;
  /** Orders per rolling second, all strategies together (SEBI's retail threshold is 10). */
  readonly maxOrdersPerSecond: number;
  readonly maxOrdersPerSecondPerStrategy: number;
}

export const DEFAULT_RISK_LIMITS: RiskLimits = {
  maxOrderValuePaise: 10_00_000_00, // ₹10 lakh
  maxOrderQuantity: 10_000,
  maxPositionQuantity: 20_000,
  maxOrdersPerSecond: 10,
  maxOrdersPerSecondPerStrategy: 10,
};

/** Why an intent was refused: a stable code and words a trader understands. */
export interface RiskRejection {
  /** Stable machine code; the minimal gate uses a subset, the full risk manager all of them. */
  readonly code: RiskRejectionCode;
  readonly message: string;
}

/** Net and working quantities per portfolio and symbol, as the gate tracks them. */
export interface ExposureView {
  net: number;
  /** Signed quantity of approved orders not yet filled or closed. */
  working: number;
}

/**
 * The minimal pre-trade gate: sits between every intent and every order. Synchronous and
 * deterministic; the risk actor owns one and feeds it fills and order outcomes.
 */
export class RiskGate {
  private readonly overall: RateWindow;
  private readonly perStrategy = new Map<string, RateWindow>();
  readonly exposures = new Map<string, ExposureView>();

  constructor(readonly limits: RiskLimits) {
    this.overall = new RateWindow(limits.maxOrdersPerSecond);
  }

  /** The exposure record for a portfolio and symbol (created empty). */
  exposure(portfolioId: string, symbol: string): ExposureView {
    const key = `${portfolioId}:${symbol}`;
    let view = this.exposures.get(key);
    if (!view) {
      view = { net: 0, working: 0 };
      this.exposures.set(key, view);
    }
    return view;
  }

  /**
   * Checks an intent against every limit. Approving reserves its quantity as working and
   * counts it in the rate windows; rejecting changes nothing.
   */
  evaluate(intent: OrderIntent, referencePricePaise: Paise | undefined, nowMs: number): RiskRejection | undefined {
    if (!Number.isSafeInteger(intent.quantity) || intent.quantity <= 0) {
      return { code: 'invalid-quantity', message: `quantity must be a positive whole number, got ${intent.quantity}` };
    }
    const price = intent.limitPricePaise ?? referencePricePaise;
    if (price === undefined || price <= 0) {
      return { code: 'no-price', message: `no price for ${intent.symbol} yet; cannot value the order` };
    }
    if (intent.quantity > this.limits.maxOrderQuantity) {
      return { code: 'max-order-quantity', message: `quantity ${intent.quantity} is above the limit of ${this.limits.maxOrderQuantity}` };
    }
    const value = mul(intent.quantity, price);
    if (value > this.limits.maxOrderValuePaise) {
      return {
        code: 'max-order-value',
        message: `order value ₹${paiseToRupeeString(value)} is above the limit of ₹${paiseToRupeeString(this.limits.maxOrderValuePaise)}`,
      };
    }
    const signed = intent.side === 'BUY' ? intent.quantity : -intent.quantity;
    const exposure = this.exposure(intent.portfolioId, intent.symbol);
    const worstCase = exposure.net + exposure.working + signed;
    if (Math.abs(worstCase) > this.limits.maxPositionQuantity && Math.abs(worstCase) > Math.abs(exposure.net + exposure.working)) {
      return {
        code: 'max-position',
        message: `position in ${intent.symbol} would reach ${worstCase}, beyond the limit of ±${this.limits.maxPositionQuantity}`,
      };
    }
    if (!this.overall.allows(nowMs)) {
      return { code: 'max-orders-per-second', message: `more than ${this.limits.maxOrdersPerSecond} orders in one second` };
    }
    let window = this.perStrategy.get(intent.strategyId);
    if (!window) {
      window = new RateWindow(this.limits.maxOrdersPerSecondPerStrategy);
      this.perStrategy.set(intent.strategyId, window);
    }
    if (!window.allows(nowMs)) {
      return {
        code: 'max-orders-per-second-strategy',
        message: `strategy ${intent.strategyId} sent more than ${this.limits.maxOrdersPerSecondPerStrategy} orders in one second`,
      };
    }
    this.overall.record(nowMs);
    window.record(nowMs);
    exposure.working += signed;
    return undefined;
  }

  /** A fill moved `signedQuantity` from working to net. */
  onFill(portfolioId: string, symbol: string, signedQuantity: number): void {
    const exposure = this.exposure(portfolioId, symbol);
    exposure.working -= signedQuantity;
    exposure.net += signedQuantity;
  }

  /** An order closed with `signedRemainder` unfilled (cancelled, rejected, expired). */
  onOrderClosed(portfolioId: string, symbol: string, signedRemainder: number): void {
    this.exposure(portfolioId, symbol).working -= signedRemainder;
  }

  /** JSON for snapshots. Rate windows are not kept: they cover one second. */
  encode(): Record<string, ExposureView> {
    return Object.fromEntries([...this.exposures].map(([key, view]) => [key, { ...view }]));
  }

  restore(encoded: Record<string, ExposureView>): void {
    this.exposures.clear();
    for (const [key, view] of Object.entries(encoded)) this.exposures.set(key, { net: view.net, working: view.working });
  }
}
