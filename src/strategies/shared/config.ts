/** Configuration fields shared by several strategies, so the dashboard's forms look alike. */
import type { ConfigField } from '../api.js';

/** Bar intervals a strategy may subscribe to (the backtester offers the data's own interval). */
export const BAR_SOURCE_OPTIONS = ['1m', '5m', '15m', '1h', '1d'] as const;
/** One of {@link BAR_SOURCE_OPTIONS}. */
export type BarSource = (typeof BAR_SOURCE_OPTIONS)[number];

/** A `symbols` field. */
export function symbolsField(description = 'Symbols to trade', defaultSymbols: readonly string[] = []): ConfigField {
  return { name: 'symbols', type: 'symbols', description, default: [...defaultSymbols] };
}

/** An `interval` field: which closed bars feed the strategy. */
export function intervalField(defaultInterval: BarSource): ConfigField {
  return { name: 'interval', type: 'enum', description: 'Closed bars that feed the strategy', default: defaultInterval, options: BAR_SOURCE_OPTIONS };
}

/** A `quantity` field: shares per position. */
export function quantityField(defaultQuantity = 10): ConfigField {
  return { name: 'quantity', type: 'integer', description: 'Shares per position', default: defaultQuantity, min: 1, max: 1_000_000 };
}
