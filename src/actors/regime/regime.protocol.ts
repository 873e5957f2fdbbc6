import type { ActorRef } from '../core/index.js';
import type { Bar, Regime } from '../../model/index.js';
import type { MarketRegimeState, RegimeState } from '../../regime/index.js';

/**
 * Protocol of the regime actor (`/regime`). Closed bars arrive through inlets that the
 * symbol actors feed (one per symbol, like a bar-subscribed strategy's); a changed regime is
 * published as a `RegimeChanged` event on the bus (per symbol and for `MARKET`).
 */
export type RegimeCommand =
  /** Bars closed since the actor last ran, any symbols, in arrival order. Not persisted (the state is). */
  | { readonly type: 'BarsClosed'; readonly bars: readonly Bar[] }
  /** Replies with {@link RegimeReport}. */
  | { readonly type: 'GetRegimes'; readonly replyTo: ActorRef<RegimeReport> };

/** Current regimes: per symbol (null while warming up) and for the market. */
export interface RegimeReport {
  readonly symbols: Readonly<Record<string, Regime | null>>;
  readonly market: Regime | null;
}

/** The actor's state, snapshotted as is (JSON): the detector state per symbol and the market's. */
export interface RegimeActorState {
  readonly symbols: Readonly<Record<string, RegimeState>>;
  readonly market: MarketRegimeState;
  readonly changes: number;
}

/** Wraps a batch of bars from the regime actor's inlet. */
export const wrapRegimeBars = (bars: readonly Bar[]): RegimeCommand => ({ type: 'BarsClosed', bars });
