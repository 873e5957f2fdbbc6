import type { StrategySpec } from '../runtime/facade.js';
import { STRATEGIES } from '../strategies/index.js';
import type { StoredStrategy } from '../persistence/gateway-state-store.types.js';

/**
 * The strategies to start with: the start-up set, where a stored row (made through the API)
 * replaces the strategy of the same id, then the other stored strategies, oldest first. A
 * stored strategy whose kind is no longer registered, or whose config no longer parses, is
 * left out (told to `onSkip`) rather than stopping the start.
 */
export function withStoredStrategies(
  defaults: readonly StrategySpec[],
  stored: readonly StoredStrategy[],
  symbols: readonly string[],
  onSkip: (strategy: StoredStrategy, reason: string) => void,
): StrategySpec[] {
  const usable = new Map<string, StrategySpec>();
  for (const strategy of stored) {
    const definition = STRATEGIES.find((candidate) => candidate.kind === strategy.kind);
    if (!definition) {
      onSkip(strategy, `kind "${strategy.kind}" is not registered`);
      continue;
    }
    try {
      definition.parseConfig(strategy.config.symbols === undefined ? { ...strategy.config, symbols: [...symbols] } : strategy.config);
    } catch (error) {
      onSkip(strategy, error instanceof Error ? error.message : String(error));
      continue;
    }
    usable.set(strategy.strategyId, { strategyId: strategy.strategyId, kind: strategy.kind, portfolioId: strategy.portfolioId, config: strategy.config });
  }
  const specs = defaults.map((spec) => usable.get(spec.strategyId) ?? spec);
  for (const [strategyId, spec] of usable) if (!defaults.some((candidate) => candidate.strategyId === strategyId)) specs.push(spec);
  return specs;
}
