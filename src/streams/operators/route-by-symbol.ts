import { defer, filter, map, type OperatorFunction } from 'rxjs';
import type { Tick } from '../../model/market.js';

/** The items (ticks, bars) of one symbol from one batch, in arrival order. */
export interface SymbolGroup<T> {
  readonly symbol: string;
  readonly items: T[];
}

/** The ticks of one symbol from one batch, in arrival order. */
export type SymbolTicks = SymbolGroup<Tick>;

/**
 * Splits batches into per-symbol groups, remembering a slot per symbol it has seen: after the
 * first batches, grouping one allocates only its groups (a `Map` per batch cost more than
 * everything else the routing does). One grouper per stream of batches.
 */
export class SymbolGrouper<T extends { readonly symbol: string }> {
  private readonly slots = new Map<string, { batch: number; group: SymbolGroup<T> | undefined }>();
  private batches = 0;

  /** One group per symbol present, in order of first appearance; items in arrival order. */
  group(batch: readonly T[]): SymbolGroup<T>[] {
    const id = ++this.batches;
    const groups: SymbolGroup<T>[] = [];
    for (const item of batch) {
      let slot = this.slots.get(item.symbol);
      if (slot === undefined) {
        slot = { batch: 0, group: undefined };
        this.slots.set(item.symbol, slot);
      }
      if (slot.batch === id) {
        slot.group!.items.push(item);
      } else {
        const group: SymbolGroup<T> = { symbol: item.symbol, items: [item] };
        slot.batch = id;
        slot.group = group;
        groups.push(group);
      }
    }
    return groups;
  }
}

/**
 * Routes tick batches per symbol: each input batch becomes one emission of
 * `{ symbol, items }` groups (see {@link SymbolGrouper}); empty batches emit nothing.
 * The order of ticks within a symbol is preserved. Each subscription has its own grouper.
 */
export function routeBySymbol(): OperatorFunction<readonly Tick[], SymbolTicks[]> {
  return (source) =>
    defer(() => {
      const grouper = new SymbolGrouper<Tick>();
      return source.pipe(
        filter((batch) => batch.length > 0),
        map((batch) => grouper.group(batch)),
      );
    });
}
