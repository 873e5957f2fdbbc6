/** Configuration fields shared by several strategies, so the dashboard's forms look alike. */
import type { Product } from '../../model/index.js';
import { StrategyConfigError, type ConfigField } from '../api.js';

/** Bar intervals a strategy may subscribe to (the backtester offers the data's own interval). */
export const BAR_SOURCE_OPTIONS = ['1m', '5m', '15m', '1h', '1d'] as const;
/** One of {@link BAR_SOURCE_OPTIONS}. */
export type BarSource = (typeof BAR_SOURCE_OPTIONS)[number];

/** A `symbols` field. */
export function symbolsField(description = 'Symbols to trade', defaultSymbols: readonly string[] = []) {
  return { name: 'symbols', type: 'symbols', description, default: [...defaultSymbols] } as const satisfies ConfigField;
}

/** An `interval` field: which closed bars feed the strategy. */
export function intervalField(defaultInterval: BarSource) {
  return {
    name: 'interval',
    type: 'enum',
    description: 'Closed bars that feed the strategy',
    default: defaultInterval,
    options: BAR_SOURCE_OPTIONS,
  } as const satisfies ConfigField;
}

/**
 * A `product` field: MIS (intraday: squared off by the broker at 15:20 IST) or CNC (delivery:
 * held overnight), or `auto` (the default): CNC on daily bars, which hold overnight, MIS on
 * intraday bars and ticks. Read it with {@link resolveProduct}.
 */
export function productField() {
  return {
    name: 'product',
    type: 'enum',
    description: 'MIS (intraday, squared off at 15:20 IST) or CNC (delivery, held overnight); auto: CNC on daily bars, MIS otherwise',
    default: 'auto',
    options: ['auto', 'MIS', 'CNC'],
  } as const satisfies ConfigField;
}

/** The product a `product` field's value stands for, given the bars that feed the strategy (`auto`: CNC on `1d`, else MIS). */
export function resolveProduct(value: unknown, interval: unknown): Product {
  if (value === 'MIS' || value === 'CNC') return value;
  return interval === '1d' ? 'CNC' : 'MIS';
}

/**
 * A config with its `product` resolved from the bars that feed it ({@link resolveProduct}); one
 * that may go short (`allowShort`) needs MIS, as there is no short delivery.
 */
export function withProduct<Values extends { readonly product: unknown; readonly allowShort: boolean }>(
  values: Values,
  interval: unknown,
): Omit<Values, 'product'> & { readonly product: Product } {
  const product = resolveProduct(values.product, interval);
  if (values.allowShort && product !== 'MIS') throw new StrategyConfigError('allowShort', 'needs product MIS (no short delivery; daily bars default to CNC)');
  return { ...values, product };
}

/**
 * A `product` field with one choice, for a strategy that trades only that product; the
 * description says why (the dashboard shows it).
 */
export function onlyProductField<P extends Product>(product: P, description: string) {
  return { name: 'product', type: 'enum', description, default: product, options: [product] } as const satisfies ConfigField;
}

/** A `quantity` field: shares per position (the description may say when they are held). */
export function quantityField(defaultQuantity = 10, description = 'Shares per position') {
  return {
    name: 'quantity',
    type: 'integer',
    description,
    default: defaultQuantity,
    min: 1,
    max: 1_000_000,
  } as const satisfies ConfigField;
}

/** An `allowShort` field: whether the strategy may go short (MIS only, which {@link withProduct} checks). */
export function allowShortField(description: string, defaultAllowed = false) {
  return { name: 'allowShort', type: 'boolean', description, default: defaultAllowed } as const satisfies ConfigField;
}

/** A `period` field: an indicator's length in bars (2 to 1,000), described as "<indicator> length (bars)". */
export function periodField(indicator: string, defaultBars: number) {
  return {
    name: 'period',
    type: 'integer',
    description: `${indicator} length (bars)`,
    default: defaultBars,
    min: 2,
    max: 1_000,
  } as const satisfies ConfigField;
}
