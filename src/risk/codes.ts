/**
 * Stable codes of pre-trade rejections. They appear in `RiskAlert.code`, in metrics labels
 * and in the gateway's error details, so never rename one; add new ones at the end.
 */
export const RISK_REJECTION_CODES = [
  'invalid-quantity',
  'no-price',
  'max-order-value',
  'max-order-quantity',
  'max-position',
  'max-orders-per-second',
  'max-orders-per-second-strategy',
  'kill-switch',
  'invalid-price',
  'unknown-instrument',
  'lot-size',
  'freeze-quantity',
  'tick-size',
  'price-band',
  'fat-finger',
  'max-gross-exposure',
  'max-net-exposure',
  'market-holiday',
  'mis-cutoff',
] as const;

/** One of {@link RISK_REJECTION_CODES}. */
export type RiskRejectionCode = (typeof RISK_REJECTION_CODES)[number];

/** The refusals that are only pacing (the orders-per-second limits): the risk actor queues those instead. */
export const PACING_CODES: readonly RiskRejectionCode[] = ['max-orders-per-second', 'max-orders-per-second-strategy'];
