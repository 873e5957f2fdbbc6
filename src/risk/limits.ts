/** Limits, refusals and exposures shared by the risk manager and the risk actor's protocol. */
import type { Paise } from '../model/index.js';
import type { RiskRejectionCode } from './codes.js';

export type { RiskRejectionCode } from './codes.js';

/** The per-order and per-second limits; the risk manager's limits extend these. */
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
  readonly code: RiskRejectionCode;
  readonly message: string;
}

/** Net and working quantities per portfolio and symbol, as the risk manager tracks them. */
export interface ExposureView {
  net: number;
  /** Signed quantity of approved orders not yet filled or closed. */
  working: number;
}
