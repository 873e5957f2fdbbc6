/**
 * The strategy registry: one line per kind. Adding a strategy = one folder + one line here.
 */
import type { AnyStrategyDefinition } from './api.js';
import { emaCross } from './ema-cross/ema-cross.strategy.js';

export const STRATEGIES: readonly AnyStrategyDefinition[] = [emaCross];

/** Looks a strategy kind up; throws a clear error listing the known kinds. */
export function strategyByKind(kind: string): AnyStrategyDefinition {
  const found = STRATEGIES.find((definition) => definition.kind === kind);
  if (!found) throw new Error(`unknown strategy kind "${kind}"; known kinds: ${STRATEGIES.map((d) => d.kind).join(', ')}`);
  return found;
}

export * from './api.js';
