/** The hooks every strategy fed only by closed bars of its `interval` has alike. */
import type { Static, TSchema } from 'typebox';
import type { Bar } from '../../model/index.js';
import { plainJsonState, type StrategyContext, type StrategyDefinition } from '../api.js';
import type { BarSource } from './config.js';

/** The part of a configuration that says which bars feed a strategy. */
export interface BarFeedConfig {
  readonly symbols: readonly string[];
  readonly interval: BarSource;
}

/**
 * Subscribes to the closed `config.interval` bars of `config.symbols`, starts from `initial()`,
 * hands every bar to `onClose`, which updates the state in place (so the next state is the
 * same object), and keeps the state as plain JSON of `schema` ({@link plainJsonState}).
 * Spread it into a definition: `...barHooks(MyState, () => ({}), onClose)`.
 */
export function barHooks<Config extends BarFeedConfig, S extends TSchema>(
  schema: S,
  initial: () => Static<S>,
  onClose: (state: Static<S>, bar: Bar, ctx: StrategyContext<Config>) => void,
): Pick<StrategyDefinition<Config, Static<S>>, 'subscriptions' | 'init' | 'onBar' | 'encodeState' | 'decodeState'> {
  return {
    subscriptions: (config) => [{ kind: 'bars', symbols: config.symbols, interval: config.interval }],
    init: initial,
    onBar: (state, bar, ctx) => {
      onClose(state, bar, ctx);
      return state;
    },
    ...plainJsonState(schema),
  };
}
