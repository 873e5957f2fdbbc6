/**
 * Order helpers shared by the strategies: move a symbol's position to a target without
 * double-sending (net + working is what the strategy already has or asked for), marketable
 * limit prices on the NSE tick grid, and exact integer division for sizing from capital.
 *
 * The strategies here send MARKET orders: a LIMIT entry that never fills would stay in
 * `workingQuantity`, and an exit netted against it could leave the book short once it
 * expires. A strategy that wants limits should track its intent ids and cancel first.
 */
import { mulDivRound, nseTickSizePaise, roundToTick, type Paise, type Product } from '../../model/index.js';
import type { StrategyContext } from '../api.js';

/** What {@link moveTo} puts on its order. */
export interface MoveOptions {
  readonly product: Product;
  readonly reason: string;
}

/** The quantity a strategy holds or has asked for in a symbol: net position + working orders. */
export function committedQuantity(ctx: StrategyContext<unknown>, symbol: string): number {
  return ctx.portfolio.netQuantity(symbol) + ctx.portfolio.workingQuantity(symbol);
}

/**
 * The side a strategy is on in a symbol: +1 long, −1 short, 0 flat, from the host's view
 * (positions follow fills; working orders, those waiting for the order rate limit included,
 * count as asked for). A strategy that reads this instead of keeping a flag of its own never
 * believes it is flat while an exit was refused: the position is still there, so it tries again.
 */
export function committedSide(ctx: StrategyContext<unknown>, symbol: string): number {
  return Math.sign(committedQuantity(ctx, symbol));
}

/**
 * Submits the one order that takes the committed quantity to `target` (signed shares);
 * nothing when it is already there. Returns the signed quantity sent.
 */
export function moveTo(ctx: StrategyContext<unknown>, symbol: string, target: number, options: MoveOptions): number {
  if (!Number.isSafeInteger(target)) throw new RangeError(`target quantity must be a whole number, got ${target}`);
  const delta = target - committedQuantity(ctx, symbol);
  if (delta === 0) return 0;
  ctx.submit({ symbol, side: delta > 0 ? 'BUY' : 'SELL', quantity: Math.abs(delta), orderType: 'MARKET', product: options.product, reason: options.reason });
  return delta;
}

/**
 * A limit price `offsetBps` through the reference (buy above, sell below), on the NSE tick
 * grid, rounded away from the reference so the order stays marketable. Exact integers.
 */
export function marketableLimitPaise(referencePaise: Paise, side: 'BUY' | 'SELL', offsetBps: number): Paise {
  const offset = mulDivRound(referencePaise, Math.round(offsetBps), 10_000);
  const raw = side === 'BUY' ? referencePaise + offset : Math.max(1, referencePaise - offset);
  return roundToTick(raw, nseTickSizePaise(raw), side === 'BUY' ? 'up' : 'down');
}

/** ⌊numerator / denominator⌋ for non-negative safe integers, exact (no float rounding). */
export function floorDiv(numerator: number, denominator: number): number {
  if (!Number.isSafeInteger(numerator) || !Number.isSafeInteger(denominator) || numerator < 0 || denominator <= 0) {
    throw new RangeError(`floorDiv needs non-negative integers and a positive divisor, got ${numerator}/${denominator}`);
  }
  let quotient = Math.floor(numerator / denominator);
  while (quotient * denominator > numerator) quotient -= 1;
  while ((quotient + 1) * denominator <= numerator) quotient += 1;
  return quotient;
}
