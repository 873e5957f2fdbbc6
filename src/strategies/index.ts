/**
 * The strategy registry: one line per kind. Adding a strategy = one folder + one line here.
 */
import type { AnyStrategyDefinition } from './api.js';
import { breakout } from './breakout/breakout.strategy.js';
import { emaCross } from './ema-cross/ema-cross.strategy.js';
import { ensemble } from './ensemble/ensemble.strategy.js';
import { mlSignal } from './ml-signal/ml-signal.strategy.js';
import { momentumRotation } from './momentum-rotation/momentum-rotation.strategy.js';
import { openingRange } from './opening-range/opening-range.strategy.js';
import { pairs } from './pairs/pairs.strategy.js';
import { rsiReversion } from './rsi-reversion/rsi-reversion.strategy.js';
import { tutorialSma } from './tutorial-sma/tutorial-sma.strategy.js';
import { vwapReversion } from './vwap-reversion/vwap-reversion.strategy.js';

/** Every strategy kind the host can run, by `kind`. */
export const STRATEGIES: readonly AnyStrategyDefinition[] = [
  emaCross,
  rsiReversion,
  breakout,
  vwapReversion,
  openingRange,
  pairs,
  momentumRotation,
  tutorialSma,
  ensemble,
  mlSignal,
];

/** Looks a strategy kind up; throws a clear error listing the known kinds. */
export function strategyByKind(kind: string): AnyStrategyDefinition {
  const found = STRATEGIES.find((definition) => definition.kind === kind);
  if (!found) throw new Error(`unknown strategy kind "${kind}"; known kinds: ${STRATEGIES.map((d) => d.kind).join(', ')}`);
  return found;
}

export * from './api.js';
