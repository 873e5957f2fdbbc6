/**
 * Position sizing: pure functions that turn equity and a risk budget into a whole number
 * of shares, rounded down to the lot size (never up: sizing must not overshoot a budget).
 * Money in integer paise, fractions in integer basis points; the arithmetic is exact
 * (BigInt floor division), so the same inputs always give the same quantity.
 */
import type { Paise } from '../model/index.js';

/** ⌊a × b / c⌋ for non-negative safe integers, exact. */
function mulDivFloor(a: number, b: number, c: number): number {
  if (c <= 0) return 0;
  return Number((BigInt(a) * BigInt(b)) / BigInt(c));
}

function assertWhole(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} must be a non-negative whole number, got ${value}`);
}

function toLots(quantity: number, lotSize: number, maxQuantity: number | undefined): number {
  const capped = maxQuantity === undefined ? quantity : Math.min(quantity, maxQuantity);
  return capped - (capped % lotSize);
}

/** Inputs common to every sizing rule. */
export interface SizingBase {
  /** Equity of the portfolio (cash + marked positions). Non-positive equity sizes to 0. */
  readonly equityPaise: Paise;
  /** Price one share is expected to trade at. */
  readonly pricePaise: Paise;
  /** Quantities are multiples of this (1 for cash equities). */
  readonly lotSize?: number;
  /** Upper cap, e.g. the risk manager's max order quantity. */
  readonly maxQuantity?: number;
}

/**
 * Fixed fraction of equity as notional: ⌊equity × fractionBps / 10 000 / price⌋ shares.
 * `fractionBps` 1 000 = put 10 % of equity in the position.
 */
export function fixedFractionQuantity(input: SizingBase & { readonly fractionBps: number }): number {
  const lotSize = input.lotSize ?? 1;
  assertWhole(input.fractionBps, 'fractionBps');
  assertWhole(lotSize, 'lotSize');
  if (input.equityPaise <= 0 || input.pricePaise <= 0 || lotSize === 0) return 0;
  return toLots(mulDivFloor(input.equityPaise, input.fractionBps, 10_000 * input.pricePaise), lotSize, input.maxQuantity);
}

/**
 * Fixed fractional risk to a stop: lose at most `riskBps` of equity if the stop is hit.
 * ⌊equity × riskBps / 10 000 / |price − stop|⌋ shares (also capped by what equity can buy).
 */
export function fixedRiskQuantity(input: SizingBase & { readonly riskBps: number; readonly stopPricePaise: Paise }): number {
  const lotSize = input.lotSize ?? 1;
  assertWhole(input.riskBps, 'riskBps');
  assertWhole(lotSize, 'lotSize');
  const perShareRisk = Math.abs(input.pricePaise - input.stopPricePaise);
  if (input.equityPaise <= 0 || input.pricePaise <= 0 || perShareRisk === 0 || lotSize === 0) return 0;
  const byRisk = mulDivFloor(input.equityPaise, input.riskBps, 10_000 * perShareRisk);
  const affordable = Math.floor(input.equityPaise / input.pricePaise);
  return toLots(Math.min(byRisk, affordable), lotSize, input.maxQuantity);
}

/**
 * Volatility target: size so the position's volatility is `targetVolatilityBps` of equity,
 * given the instrument's volatility over the same horizon (both in basis points, e.g.
 * annualised 15 % target = 1 500, instrument at 30 % = 3 000 → half of equity in notional).
 * ⌊equity × target / (instrumentVol × price)⌋ shares, capped at `maxLeverageBps` of equity
 * in notional (default 10 000 = 1×, no leverage).
 */
export function volatilityTargetQuantity(
  input: SizingBase & { readonly targetVolatilityBps: number; readonly instrumentVolatilityBps: number; readonly maxLeverageBps?: number },
): number {
  const lotSize = input.lotSize ?? 1;
  const maxLeverageBps = input.maxLeverageBps ?? 10_000;
  assertWhole(input.targetVolatilityBps, 'targetVolatilityBps');
  assertWhole(input.instrumentVolatilityBps, 'instrumentVolatilityBps');
  assertWhole(maxLeverageBps, 'maxLeverageBps');
  assertWhole(lotSize, 'lotSize');
  if (input.equityPaise <= 0 || input.pricePaise <= 0 || input.instrumentVolatilityBps === 0 || lotSize === 0) return 0;
  const byVolatility = mulDivFloor(input.equityPaise, input.targetVolatilityBps, input.instrumentVolatilityBps * input.pricePaise);
  const byLeverage = mulDivFloor(input.equityPaise, maxLeverageBps, 10_000 * input.pricePaise);
  return toLots(Math.min(byVolatility, byLeverage), lotSize, input.maxQuantity);
}

/** A float volatility estimate (0.25 = 25 %) as whole basis points, rounded to nearest: the one place a float enters sizing. */
export function volatilityToBps(volatility: number): number {
  if (!Number.isFinite(volatility) || volatility < 0) throw new RangeError(`volatility must be a finite non-negative fraction, got ${volatility}`);
  return Math.round(volatility * 10_000);
}
