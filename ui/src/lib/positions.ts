/** Positions marked to the live quotes, in exact paise (integer arithmetic from the model). */
import { divRound, mul } from '../../../src/model/money.js';
import type { LivePosition, LiveQuote, LiveState, StrategyBook } from './live-store.js';

export interface MarkedPosition extends LivePosition {
  readonly key: string;
  readonly lastPricePaise: number;
  readonly averagePricePaise: number;
  readonly marketValuePaise: number;
  readonly unrealisedPaise: number;
  /** The quote the mark came from, when the desk has one. */
  readonly quoteAtMs: number | undefined;
}

export function markPosition(position: LivePosition, quote: LiveQuote | undefined): MarkedPosition {
  const lastPricePaise = quote?.ltpPaise ?? position.lastPricePaise;
  const marketValuePaise = mul(position.netQuantity, lastPricePaise);
  return {
    ...position,
    key: `${position.portfolioId}:${position.symbol}:${position.product}`,
    lastPricePaise,
    averagePricePaise: position.netQuantity === 0 ? 0 : divRound(position.costPaise, position.netQuantity),
    marketValuePaise,
    unrealisedPaise: position.netQuantity === 0 ? 0 : marketValuePaise - position.costPaise,
    quoteAtMs: quote?.receivedAtMs,
  };
}

export interface PortfolioTotals {
  readonly portfolioId: string;
  readonly cashPaise: number;
  readonly equityPaise: number;
  readonly marketValuePaise: number;
  readonly realisedPaise: number;
  readonly unrealisedPaise: number;
  readonly chargesPaise: number;
  readonly netPnlPaise: number;
  readonly grossExposurePaise: number;
  readonly netExposurePaise: number;
  readonly openPositions: number;
}

/**
 * Live totals per portfolio: the desk re-marks every position to the latest quote; equity
 * is the initial cash (equity − net P&L of the server's last summary, exact) plus the live
 * net P&L, so it never mixes a cash figure and positions from different moments.
 */
export function portfolioTotals(state: Pick<LiveState, 'positions' | 'quotes' | 'pnl'>): PortfolioTotals[] {
  const totals = new Map<string, { -readonly [K in keyof PortfolioTotals]: PortfolioTotals[K] }>();
  const initialCash = new Map<string, number>();
  for (const [portfolioId, { summary }] of state.pnl) {
    initialCash.set(portfolioId, summary.equityPaise - summary.netPnlPaise);
    totals.set(portfolioId, {
      portfolioId,
      cashPaise: summary.cashPaise,
      equityPaise: 0,
      marketValuePaise: 0,
      realisedPaise: 0,
      unrealisedPaise: 0,
      chargesPaise: 0,
      netPnlPaise: 0,
      grossExposurePaise: 0,
      netExposurePaise: 0,
      openPositions: 0,
    });
  }
  for (const position of state.positions.values()) {
    const total = totals.get(position.portfolioId);
    if (!total) continue;
    const marked = markPosition(position, state.quotes.get(position.symbol));
    total.marketValuePaise += marked.marketValuePaise;
    total.realisedPaise += marked.realisedPaise;
    total.unrealisedPaise += marked.unrealisedPaise;
    total.chargesPaise += marked.chargesPaise;
    total.grossExposurePaise += Math.abs(marked.marketValuePaise);
    total.netExposurePaise += marked.marketValuePaise;
    if (marked.netQuantity !== 0) total.openPositions += 1;
  }
  for (const total of totals.values()) {
    total.netPnlPaise = total.realisedPaise + total.unrealisedPaise - total.chargesPaise;
    total.equityPaise = (initialCash.get(total.portfolioId) ?? 0) + total.netPnlPaise;
  }
  return [...totals.values()];
}

export interface StrategyPerformance {
  readonly strategyId: string;
  readonly fills: number;
  readonly turnoverPaise: number;
  readonly chargesPaise: number;
  /** Cash from the fills plus the open quantities marked to the live quotes (charges included). */
  readonly netPnlPaise: number;
  /** Σ |net| × mark over the strategy's own open positions. */
  readonly openValuePaise: number;
  readonly openSymbols: number;
}

/** A strategy's figures from its fills, its open quantities marked to the latest quotes (exact paise). */
export function strategyPerformance(book: StrategyBook, quotes: ReadonlyMap<string, Pick<LiveQuote, 'ltpPaise'>>): StrategyPerformance {
  let marked = 0;
  let openValue = 0;
  let openSymbols = 0;
  for (const [symbol, net] of Object.entries(book.net)) {
    if (net === 0) continue;
    const mark = quotes.get(symbol)?.ltpPaise ?? book.lastPricePaise[symbol] ?? 0;
    marked += mul(net, mark);
    openValue += Math.abs(mul(net, mark));
    openSymbols += 1;
  }
  return {
    strategyId: book.strategyId,
    fills: book.fills,
    turnoverPaise: book.turnoverPaise,
    chargesPaise: book.chargesPaise,
    netPnlPaise: book.cashFlowPaise + marked,
    openValuePaise: openValue,
    openSymbols,
  };
}
