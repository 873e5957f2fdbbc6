import { mul, type Paise } from './money.js';
import { signedQuantity, type Fill } from './fill.js';
import { applyFill, emptyPosition, marketValuePaise, markPosition, unrealisedPaise, type Position } from './position.js';

/** Cash and positions of one portfolio. Pure data; the portfolio actor owns one. */
export interface PortfolioState {
  readonly portfolioId: string;
  readonly initialCashPaise: Paise;
  readonly cashPaise: Paise;
  /** Keyed by `${symbol}:${product}`. */
  readonly positions: Readonly<Record<string, Position>>;
  readonly fillCount: number;
}

/** Aggregates for display and risk. All exact. */
export interface PortfolioSummary {
  readonly cashPaise: Paise;
  readonly marketValuePaise: Paise;
  readonly equityPaise: Paise;
  readonly realisedPaise: Paise;
  readonly unrealisedPaise: Paise;
  readonly chargesPaise: Paise;
  /** realised + unrealised − charges = equity − initial cash. */
  readonly netPnlPaise: Paise;
  readonly grossExposurePaise: Paise;
  readonly netExposurePaise: Paise;
}

export const positionKey = (symbol: string, product: string): string => `${symbol}:${product}`;

export function newPortfolio(portfolioId: string, initialCashPaise: Paise): PortfolioState {
  return { portfolioId, initialCashPaise, cashPaise: initialCashPaise, positions: {}, fillCount: 0 };
}

/** A portfolio state its owner may update in place (the portfolio actor owns one). */
export type MutablePortfolioState = { -readonly [K in keyof PortfolioState]: PortfolioState[K] } & { positions: Record<string, Position> };

/** A copy its owner may update in place (positions are immutable values, so a shallow copy suffices). */
export function copyPortfolio(state: PortfolioState): MutablePortfolioState {
  return { ...state, positions: { ...state.positions } };
}

/**
 * Applies a fill in place: cash moves by the exact traded value and the fill's charges.
 * Returns the fill's new position. For owners of the state; others use {@link applyFillToPortfolio}.
 */
export function applyFillInPlace(state: MutablePortfolioState, fill: Fill): Position {
  const key = positionKey(fill.symbol, fill.product);
  const position = applyFill(state.positions[key] ?? emptyPosition(fill.symbol, fill.product), fill);
  state.positions[key] = position;
  state.cashPaise += -mul(signedQuantity(fill), fill.pricePaise) - fill.chargesPaise;
  state.fillCount += 1;
  return position;
}

/** Applies a fill: cash moves by the exact traded value and the fill's charges. Pure. */
export function applyFillToPortfolio(state: PortfolioState, fill: Fill): PortfolioState {
  const next = copyPortfolio(state);
  applyFillInPlace(next, fill);
  return next;
}

const PRODUCTS = ['MIS', 'CNC', 'NRML'] as const;

/** The position keys of a symbol, one per product (a memo: marks come on every tick). */
const keysBySymbol = new Map<string, readonly string[]>();
const positionKeysOf = (symbol: string): readonly string[] => {
  let keys = keysBySymbol.get(symbol);
  if (keys === undefined) {
    keys = PRODUCTS.map((product) => positionKey(symbol, product));
    if (keysBySymbol.size < 100_000) keysBySymbol.set(symbol, keys);
  }
  return keys;
};

/** Marks every position in `symbol` in place; true when something changed. For owners of the state. */
export function markInPlace(state: MutablePortfolioState, symbol: string, lastPricePaise: Paise): boolean {
  let changed = false;
  for (const key of positionKeysOf(symbol)) {
    const position = state.positions[key];
    if (position === undefined || position.lastPricePaise === lastPricePaise) continue;
    state.positions[key] = markPosition(position, lastPricePaise);
    changed = true;
  }
  return changed;
}

/** Marks every position in `symbol` to the last price. Pure: returns the same object when nothing changed. */
export function markPortfolio(state: PortfolioState, symbol: string, lastPricePaise: Paise): PortfolioState {
  let next: MutablePortfolioState | undefined;
  for (const product of PRODUCTS) {
    const position = state.positions[positionKey(symbol, product)];
    if (position === undefined || position.lastPricePaise === lastPricePaise) continue;
    next = copyPortfolio(state);
    break;
  }
  if (!next) return state;
  markInPlace(next, symbol, lastPricePaise);
  return next;
}

export function summarisePortfolio(state: PortfolioState): PortfolioSummary {
  let marketValue = 0;
  let realised = 0;
  let unrealised = 0;
  let charges = 0;
  let gross = 0;
  // for…in, not Object.values: the positions object is a dictionary (keys made at run time), whose
  // values array costs three times the sums themselves, and this runs on every fill
  const positions = state.positions;
  for (const key in positions) {
    const position = positions[key]!;
    const value = marketValuePaise(position);
    marketValue += value;
    gross += Math.abs(value);
    realised += position.realisedPaise;
    unrealised += unrealisedPaise(position);
    charges += position.chargesPaise;
  }
  return {
    cashPaise: state.cashPaise,
    marketValuePaise: marketValue,
    equityPaise: state.cashPaise + marketValue,
    realisedPaise: realised,
    unrealisedPaise: unrealised,
    chargesPaise: charges,
    netPnlPaise: realised + unrealised - charges,
    grossExposurePaise: gross,
    netExposurePaise: marketValue,
  };
}
