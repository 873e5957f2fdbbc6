import type { Behavior } from '../core/index.js';
import { assertNever, MARKET_REGIME_SYMBOL, type BarInterval, type DomainEvent } from '../../model/index.js';
import {
  DEFAULT_MARKET_REGIME_CONFIG,
  DEFAULT_REGIME_CONFIG,
  initialRegimeState,
  updateMarketRegime,
  updateRegime,
  type MarketRegimeConfig,
  type RegimeConfig,
  type RegimeState,
} from '../../regime/index.js';
import type { RegimeActorState, RegimeCommand, RegimeReport } from './regime.protocol.js';
import { regimeCodec } from './regime.snapshot.js';

/** What the regime actor needs. */
export interface RegimeActorDeps {
  /** Where `RegimeChanged` goes (the runtime's event bus). */
  readonly bus: { publish(event: DomainEvent): void };
  /** Only bars of this interval are classified (default: all; feed one interval per actor). */
  readonly interval?: BarInterval;
  readonly config?: RegimeConfig;
  readonly marketConfig?: MarketRegimeConfig;
}

/**
 * The regime detector as an actor: classifies each symbol from its closed bars and the
 * market from its symbols (rules in `src/regime/regime-detector.ts`) and publishes every
 * confirmed change as `RegimeChanged`. Pure state, snapshotted; a restart resumes warm.
 */
export function regimeBehavior(deps: RegimeActorDeps): Behavior<RegimeCommand, RegimeActorState> {
  const config = deps.config ?? DEFAULT_REGIME_CONFIG;
  const marketConfig = deps.marketConfig ?? DEFAULT_MARKET_REGIME_CONFIG;
  return {
    kind: 'regime',
    initial: (_ctx, restored) => restored ?? { symbols: {}, market: { symbols: {}, regime: null }, changes: 0 },
    snapshot: {
      // the working state is updated in place (see below): snapshots and restores take copies
      codec: regimeCodec,
      everyMs: 5000,
    },
    receive(state, message, ctx) {
      switch (message.type) {
        case 'BarsClosed': {
          // the actor owns its state: each symbol's detector state is updated in place
          const symbols = state.symbols as Record<string, RegimeState>;
          let { market, changes } = state;
          for (const bar of message.bars) {
            if (deps.interval !== undefined && bar.interval !== deps.interval) continue;
            const step = updateRegime(symbols[bar.symbol] ?? initialRegimeState(), bar, config, true);
            symbols[bar.symbol] = step.state;
            if (!step.change || !step.evidence) continue;
            changes += 1;
            deps.bus.publish({
              type: 'RegimeChanged',
              symbol: bar.symbol,
              from: step.change.from,
              to: step.change.to,
              atMs: bar.startMs,
              evidence: { ...step.evidence },
            });
            const marketStep = updateMarketRegime(market, bar.symbol, step.change.to, marketConfig);
            market = marketStep.state;
            if (marketStep.change) {
              changes += 1;
              deps.bus.publish({
                type: 'RegimeChanged',
                symbol: MARKET_REGIME_SYMBOL,
                from: marketStep.change.from,
                to: marketStep.change.to,
                atMs: bar.startMs,
                evidence: marketStep.evidence,
              });
            }
          }
          if (market === state.market && changes === state.changes) return state;
          return { symbols, market, changes };
        }
        case 'GetRegimes': {
          const report: RegimeReport = {
            symbols: Object.fromEntries(Object.entries(state.symbols).map(([symbol, s]) => [symbol, s.regime])),
            market: state.market.regime,
          };
          ctx.system.tell(message.replyTo, report);
          return state;
        }
        default:
          return assertNever(message, 'regime command');
      }
    },
  };
}
