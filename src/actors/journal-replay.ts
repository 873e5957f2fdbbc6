/**
 * What recovery hands each actor kind: the execution journal folded into data (the persistence
 * layer's `JournalFolder` implements it). Each kind's `*.snapshot.ts` says how this applies to
 * its own snapshot; recovery only orchestrates.
 */
import type { Fill, Order } from '../model/index.js';

/** A strategy's book from the journal: the next intent number past every journaled intent, and its position per symbol from fills. */
export interface JournalStrategyBook {
  readonly next: number;
  readonly positions: ReadonlyMap<string, number>;
}

/** The journal after reconciliation with the broker, as pure data. */
export interface JournalReplay {
  /** Journal entries folded in (checkpoint included); 0: an empty journal. */
  readonly entries: number;
  /** Fills read after the checkpoint (all of them without one), in journal order. */
  readonly fills: readonly Fill[];
  /** Orders that are not terminal, latest version of each. */
  readonly openOrders: readonly Order[];
  /** Fills of `portfolioId` before the checkpoint (they are in its snapshot already). */
  fillsBeforeOf(portfolioId: string): number;
  /** Net quantity per portfolio and symbol: Σ of all fills. */
  netPositions(): ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** Per strategy id. */
  strategyBooks(): ReadonlyMap<string, JournalStrategyBook>;
}

export const signedOf = (side: 'BUY' | 'SELL', quantity: number): number => (side === 'BUY' ? quantity : -quantity);
