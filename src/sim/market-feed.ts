/** Where the simulator's market ticks come from: the synthetic market or a replay of bars. */
import type { Instrument } from '../model/instrument.js';
import type { Tick } from '../model/market.js';
import { createSyntheticMarket } from '../streams/sources/synthetic-market.js';
import { replayTickBatches, type ReplayData } from '../streams/sources/csv-replay.js';

/** The market that drives the simulator's books. */
export type SimulatorMarketSource =
  | {
      readonly kind: 'synthetic';
      /** Symbol count or names (default 10: RELIANCE, TCS, HDFCBANK, INFY, …). */
      readonly symbols?: number | readonly string[];
      /** First session, IST date. */
      readonly startDate?: string;
    }
  | { readonly kind: 'replay'; readonly data: ReplayData };

/** A pull-based tick feed. */
export interface MarketFeed {
  readonly instruments: readonly Instrument[];
  /** Up to `count` next ticks in time order; fewer (maybe none) when a replay runs out. */
  next(count: number): Tick[];
}

/** Builds the feed for a source; `seed` makes the synthetic market reproducible. */
export function createMarketFeed(source: SimulatorMarketSource, seed: number): MarketFeed {
  if (source.kind === 'synthetic') {
    const market = createSyntheticMarket({
      symbols: source.symbols ?? 10,
      seed,
      ...(source.startDate === undefined ? {} : { startDate: source.startDate }),
    });
    return { instruments: market.instruments, next: (count) => market.nextBatch(count) };
  }
  const batches = replayTickBatches(source.data, 256);
  let buffer: Tick[] = [];
  let index = 0;
  let done = false;
  return {
    instruments: source.data.instruments,
    next(count: number): Tick[] {
      const out: Tick[] = [];
      while (out.length < count) {
        if (index >= buffer.length) {
          if (done) break;
          const step = batches.next();
          if (step.done === true) {
            done = true;
            break;
          }
          buffer = step.value;
          index = 0;
          continue;
        }
        out.push(buffer[index]!);
        index += 1;
      }
      return out;
    },
  };
}
