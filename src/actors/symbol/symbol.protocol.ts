import type { ActorRef } from '../core/index.js';
import type { Bar, Paise, Tick } from '../../model/index.js';

/**
 * Protocol of a symbol actor (one per instrument, under `market`).
 * Sent by the market-data pipeline (through the symbol's inlet) and by the gateway.
 */
export type SymbolCommand =
  /** Everything that arrived since the actor last ran, in arrival order. Not persisted. */
  | { readonly type: 'MarketData'; readonly batches: readonly (readonly Tick[])[] }
  /** Bars closed by the pipeline's aggregator. */
  | { readonly type: 'BarsClosed'; readonly bars: readonly Bar[] }
  /** Replies with {@link SymbolStatus}. */
  | { readonly type: 'GetStatus'; readonly replyTo: ActorRef<SymbolStatus> };

/** The symbol actor's state, snapshotted. */
export interface SymbolState {
  readonly symbol: string;
  readonly lastPricePaise: Paise;
  readonly openPaise: Paise;
  readonly highPaise: Paise;
  readonly lowPaise: Paise;
  readonly volume: number;
  readonly ticks: number;
  readonly lastExchangeTimeMs: number;
  readonly barsClosed: number;
}

export type SymbolStatus = SymbolState;
