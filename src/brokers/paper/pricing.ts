/**
 * Price rules of the paper broker, pure and exact (integer paise, no float on money).
 */
import { roundToTick } from '../../model/instrument.js';
import { floorDivMod, MoneyOverflowError, type Paise } from '../../model/money.js';
import type { Side } from '../../model/order.js';

/** `value × numerator / denominator` rounded toward −∞ (`'floor'`) or +∞ (`'ceil'`), exact; all ≥ 0. */
export function mulDivDirected(value: number, numerator: number, denominator: number, direction: 'floor' | 'ceil'): number {
  const product = value * numerator;
  if (Number.isSafeInteger(product)) {
    const [quotient, remainder] = floorDivMod(product, denominator);
    return direction === 'ceil' && remainder > 0 ? quotient + 1 : quotient;
  }
  const big = BigInt(value) * BigInt(numerator);
  const d = BigInt(denominator);
  let quotient = big / d;
  if (direction === 'ceil' && big % d !== 0n) quotient += 1n;
  if (quotient > BigInt(Number.MAX_SAFE_INTEGER)) throw new MoneyOverflowError('mulDivDirected');
  return Number(quotient);
}

/** Slippage resolution: 0.01 basis point; 1 = 1/1_000_000 of the price. */
const SLIPPAGE_DENOMINATOR = 1_000_000;

/** Slippage in bps as an integer count of 0.01 bp (config validation keeps it ≥ 0). */
export function slippageUnits(slippageBps: number): number {
  return Math.round(slippageBps * 100);
}

/**
 * The fill price of a market-type order: the touch moved by the slippage against the
 * trader (buy up, sell down, the sub-paisa part rounded against the trader too), put on
 * the tick grid against the trader, then kept inside the circuit limits.
 */
export function marketFillPricePaise(
  side: Side,
  touchPaise: Paise,
  slippageBps: number,
  tickSizePaise: Paise,
  band: { readonly lowerPaise: Paise; readonly upperPaise: Paise },
): Paise {
  const units = slippageUnits(slippageBps);
  if (side === 'BUY') {
    const slipped = mulDivDirected(touchPaise, SLIPPAGE_DENOMINATOR + units, SLIPPAGE_DENOMINATOR, 'ceil');
    return Math.min(roundToTick(slipped, tickSizePaise, 'up'), band.upperPaise);
  }
  const slipped = mulDivDirected(touchPaise, Math.max(0, SLIPPAGE_DENOMINATOR - units), SLIPPAGE_DENOMINATOR, 'floor');
  return Math.max(roundToTick(slipped, tickSizePaise, 'down'), band.lowerPaise, tickSizePaise);
}

/** Quantity one order may take from a tick: the participation share, down to whole lots, at most `remaining`. */
export function participationCap(tradedQuantity: number, participationPercent: number, lotSize: number, remaining: number): number {
  if (tradedQuantity <= 0) return 0;
  const share = participationPercent >= 100 ? tradedQuantity : Math.floor((tradedQuantity * participationPercent) / 100);
  const lots = Math.floor(Math.min(share, remaining) / lotSize);
  return lots * lotSize;
}

/** Stop orders trigger when the LTP reaches the trigger: buy at LTP ≥ trigger, sell at LTP ≤ trigger. */
export function stopTriggered(side: Side, triggerPaise: Paise, ltpPaise: Paise): boolean {
  return side === 'BUY' ? ltpPaise >= triggerPaise : ltpPaise <= triggerPaise;
}

/** A resting limit trades when the LTP goes through it (or touches it, with `fillAtTouch`). */
export function limitTradedThrough(side: Side, limitPaise: Paise, ltpPaise: Paise, fillAtTouch: boolean): boolean {
  if (side === 'BUY') return fillAtTouch ? ltpPaise <= limitPaise : ltpPaise < limitPaise;
  return fillAtTouch ? ltpPaise >= limitPaise : ltpPaise > limitPaise;
}

/**
 * The fill price of a limit order on the first tick it meets while OPEN (a "taker"): it
 * is marketable when the opposite touch (ask for a buy, bid for a sell) is at or better
 * than the limit; without a quote the LTP stands for the touch and must trade through
 * (or touch, with `fillAtTouch`). Fills at the touch, which is never worse than the limit.
 * Returns undefined when not marketable.
 */
export function takerLimitPricePaise(
  side: Side,
  limitPaise: Paise,
  tick: { readonly ltpPaise: Paise; readonly bidPaise?: Paise; readonly askPaise?: Paise },
  fillAtTouch: boolean,
): Paise | undefined {
  const quote = side === 'BUY' ? tick.askPaise : tick.bidPaise;
  if (quote !== undefined && quote > 0) {
    const marketable = side === 'BUY' ? quote <= limitPaise : quote >= limitPaise;
    return marketable ? quote : undefined;
  }
  return limitTradedThrough(side, limitPaise, tick.ltpPaise, fillAtTouch) ? tick.ltpPaise : undefined;
}
