import { filter, map, type OperatorFunction } from 'rxjs';
import type { Tick } from '../../model/market.js';

/** The ticks of one symbol from one batch, in arrival order. */
export interface SymbolTicks {
  readonly symbol: string;
  readonly ticks: Tick[];
}

/** Splits one batch into per-symbol groups: one per symbol present, in order of first appearance. */
export function groupBySymbol(batch: readonly Tick[]): SymbolTicks[] {
  const groups: SymbolTicks[] = [];
  const bySymbol = new Map<string, Tick[]>();
  for (const tick of batch) {
    let ticks = bySymbol.get(tick.symbol);
    if (ticks === undefined) {
      ticks = [];
      bySymbol.set(tick.symbol, ticks);
      groups.push({ symbol: tick.symbol, ticks });
    }
    ticks.push(tick);
  }
  return groups;
}

/**
 * Routes tick batches per symbol: each input batch becomes one emission of
 * `{ symbol, ticks }` groups (see {@link groupBySymbol}); empty batches emit nothing.
 * Stateless; the order of ticks within a symbol is preserved.
 */
export function routeBySymbol(): OperatorFunction<readonly Tick[], SymbolTicks[]> {
  return (source) =>
    source.pipe(
      filter((batch) => batch.length > 0),
      map(groupBySymbol),
    );
}
