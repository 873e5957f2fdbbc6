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

/** Applies a fill: cash moves by the exact traded value and the fill's charges. */
export function applyFillToPortfolio(state: PortfolioState, fill: Fill): PortfolioState {
  const key = positionKey(fill.symbol, fill.product);
  const position = state.positions[key] ?? emptyPosition(fill.symbol, fill.product);
  const cashFlow = -mul(signedQuantity(fill), fill.pricePaise) - fill.chargesPaise;
  return {
    ...state,
    cashPaise: state.cashPaise + cashFlow,
    positions: { ...state.positions, [key]: applyFill(position, fill) },
    fillCount: state.fillCount + 1,
  };
}

const PRODUCTS = ['MIS', 'CNC', 'NRML'] as const;

/** Marks every position in `symbol` to the last price. Returns the same object when nothing changed. */
export function markPortfolio(state: PortfolioState, symbol: string, lastPricePaise: Paise): PortfolioState {
  let positions: Record<string, Position> | undefined;
  for (const product of PRODUCTS) {
    const key = positionKey(symbol, product);
    const position = state.positions[key];
    if (position === undefined || position.lastPricePaise === lastPricePaise) continue;
    positions ??= { ...state.positions };
    positions[key] = markPosition(position, lastPricePaise);
  }
  return positions ? { ...state, positions } : state;
}

export function summarisePortfolio(state: PortfolioState): PortfolioSummary {
  let marketValue = 0;
  let realised = 0;
  let unrealised = 0;
  let charges = 0;
  let gross = 0;
  for (const position of Object.values(state.positions)) {
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
