import { encodeJson, type Behavior } from '../core/index.js';
import { assertNever, type Tick } from '../../model/index.js';
import type { Directory } from '../directory.js';
import type { MarketCache } from '../market-cache.js';
import type { SymbolCommand, SymbolState } from './symbol.protocol.js';
import { decodeSymbolSnapshot, SymbolSnapshotSchema } from './symbol.snapshot.js';

export interface SymbolActorDeps {
  readonly directory: Directory;
  readonly cache: MarketCache;
}

/** The actor's working state: `SymbolState` updated in place (the actor owns it; replies and snapshots get copies). */
export type SymbolDay = { -readonly [K in keyof SymbolState]: SymbolState[K] };

/** A fresh object with exactly the fields of `SymbolState`, in one order (one shape on the hot path). */
function copyState(state: SymbolState): SymbolDay {
  return {
    symbol: state.symbol,
    lastPricePaise: state.lastPricePaise,
    openPaise: state.openPaise,
    highPaise: state.highPaise,
    lowPaise: state.lowPaise,
    volume: state.volume,
    ticks: state.ticks,
    lastExchangeTimeMs: state.lastExchangeTimeMs,
    barsClosed: state.barsClosed,
  };
}

/** A symbol's day before its first tick. */
export function emptyDay(symbol: string): SymbolDay {
  return { symbol, lastPricePaise: 0, openPaise: 0, highPaise: 0, lowPaise: 0, volume: 0, ticks: 0, lastExchangeTimeMs: 0, barsClosed: 0 };
}

/**
 * One actor per instrument. Keeps the day's OHLC and the latest quote, writes the market
 * cache, then fans the batch out: to the strategies subscribed to the symbol, to the
 * broker (for matching), and the last price to the portfolios (conflated).
 */
export function symbolBehavior(symbol: string, deps: SymbolActorDeps): Behavior<SymbolCommand, SymbolDay> {
  return {
    kind: 'symbol',
    initial: (_ctx, restored) => (restored ? copyState(restored) : emptyDay(symbol)),
    snapshot: {
      codec: { version: 1, encode: (state) => encodeJson(SymbolSnapshotSchema, { ...state }), decode: (json) => copyState(decodeSymbolSnapshot(json)) },
      everyMs: 1000,
    },
    receive(state, message, ctx) {
      switch (message.type) {
        case 'MarketData':
          onMarketData(state, message.batches, deps);
          return state;
        case 'BarsClosed': {
          for (const bar of message.bars) {
            for (const inlet of deps.directory.barSubscribers.get(symbol) ?? []) inlet.offer(bar);
          }
          state.barsClosed += message.bars.length;
          return state;
        }
        case 'GetStatus':
          ctx.system.tell(message.replyTo, copyState(state));
          return state;
        default:
          return assertNever(message, 'symbol command');
      }
    },
  };
}

function onMarketData(state: SymbolDay, batches: readonly (readonly Tick[])[], deps: SymbolActorDeps): void {
  let last: Tick | undefined;
  for (const batch of batches) last = foldTicks(state, batch) ?? last;
  if (!last) return;
  deps.cache.update(last); // written before published
  const { directory } = deps;
  const subscribers = directory.tickSubscribers.get(state.symbol);
  for (const batch of batches) {
    directory.executionTicks?.offer(batch);
    if (subscribers) for (const inlet of subscribers) inlet.offer(batch);
  }
  for (const inlet of directory.portfolioMarks) inlet.offer(last);
}

/**
 * Folds a batch of the symbol's ticks into its day (open, high, low, ticks, last price, volume and
 * time): what the actor does for every tick. Returns the batch's last tick (undefined when empty).
 * The runtime benchmark's bare loop calls it too, so both do the same work.
 */
export function foldTicks(state: SymbolDay, batch: readonly Tick[]): Tick | undefined {
  if (batch.length === 0) return undefined;
  let { openPaise, highPaise, lowPaise } = state;
  for (let i = 0; i < batch.length; i += 1) {
    const price = batch[i]!.ltpPaise;
    if (openPaise === 0) {
      openPaise = price;
      highPaise = price;
      lowPaise = price;
    } else {
      if (price > highPaise) highPaise = price;
      if (price < lowPaise) lowPaise = price;
    }
  }
  const last = batch[batch.length - 1]!;
  state.lastPricePaise = last.ltpPaise;
  state.openPaise = openPaise;
  state.highPaise = highPaise;
  state.lowPaise = lowPaise;
  state.volume = last.volume;
  state.ticks += batch.length;
  state.lastExchangeTimeMs = last.exchangeTimeMs;
  return last;
}

/** Tick batches for a symbol actor arrive through its inlet; this wraps them. */
export const wrapSymbolTicks = (batches: readonly (readonly Tick[])[]): SymbolCommand => ({ type: 'MarketData', batches });
