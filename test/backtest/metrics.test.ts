import { describe, expect, it } from 'vitest';
import {
  attributionBySymbol,
  attributionByStrategy,
  cagrPct,
  computeMetrics,
  dailyReturns,
  drawdowns,
  monthlyReturns,
  roundTrips,
  sharpeRatio,
  sortinoRatio,
  type DailyEquity,
} from '../../src/backtest/metrics.js';
import { applyFill, emptyPosition, type Fill, type Position } from '../../src/model/index.js';

// 1,000 rupees; +10 %, −10 %, +10 % across a month end
const start = 100_000;
const equity: DailyEquity[] = [
  { date: '2024-01-30', equityPaise: 110_000 },
  { date: '2024-01-31', equityPaise: 99_000 },
  { date: '2024-02-01', equityPaise: 108_900 },
];

let fillNo = 0;
function fill(strategyId: string, side: 'BUY' | 'SELL', quantity: number, pricePaise: number, chargesPaise: number): Fill {
  fillNo += 1;
  return {
    type: 'fill',
    fillId: `F${fillNo}`,
    clientOrderId: `C${fillNo}`,
    brokerOrderId: `B${fillNo}`,
    portfolioId: 'p',
    strategyId,
    symbol: 'X',
    side,
    product: 'MIS',
    quantity,
    pricePaise,
    chargesPaise,
    atMs: fillNo * 1000,
  };
}
// a: long 10 @100 → 110 (gross +100, charges 10, net +90)
// b: long 5 @100, sell 10 @90 (closes 5: gross −50, charges 2 + 2 → net −54; opens short 5 with 2),
//    buy 5 @80 (gross +50, charges 2 + 1 → net +47)
const fills = [
  fill('a', 'BUY', 10, 100, 5),
  fill('a', 'SELL', 10, 110, 5),
  fill('b', 'BUY', 5, 100, 2),
  fill('b', 'SELL', 10, 90, 4),
  fill('b', 'BUY', 5, 80, 1),
];
const positions: Position[] = [fills.reduce((p, f) => applyFill(p, f), emptyPosition('X', 'MIS'))];

describe('backtest metrics', () => {
  it('computes returns, Sharpe, Sortino and CAGR by hand', () => {
    const r = dailyReturns(start, equity);
    expect(r[0]).toBeCloseTo(0.1, 12);
    expect(r[1]).toBeCloseTo(-0.1, 12);
    expect(r[2]).toBeCloseTo(0.1, 12);
    // mean 1/30, sample sd √(0.02666…/2) = 0.11547; × √252
    expect(sharpeRatio(r, 252)).toBeCloseTo(4.582576, 5);
    // downside deviation √(0.01/3) = 0.057735
    expect(sortinoRatio(r, 252)).toBeCloseTo(9.165151, 5);
    expect(cagrPct(start, 108_900, 3, 252)).toBeCloseTo((1.089 ** 84 - 1) * 100, 0);
    expect(cagrPct(start, 125_000, 252, 252)).toBeCloseTo(25, 9);
    expect(sharpeRatio([0.01], 252)).toBeNull();
    expect(sharpeRatio([0.01, 0.01], 252)).toBeNull(); // no variance
    expect(sortinoRatio([0.01, 0.02], 252)).toBeNull(); // no down days
  });

  it('finds drawdowns and monthly returns in exact paise', () => {
    expect(drawdowns(start, equity)).toEqual([
      { date: '2024-01-30', drawdownPaise: 0, drawdownPct: 0 },
      { date: '2024-01-31', drawdownPaise: 11_000, drawdownPct: 10 },
      { date: '2024-02-01', drawdownPaise: 1_100, drawdownPct: 1 },
    ]);
    expect(monthlyReturns(start, equity)).toEqual([
      { month: '2024-01', startEquityPaise: 100_000, endEquityPaise: 99_000, returnPct: -1 },
      { month: '2024-02', startEquityPaise: 99_000, endEquityPaise: 108_900, returnPct: 10 },
    ]);
  });

  it('splits fills into round trips, flips included', () => {
    const trips = roundTrips(fills);
    expect(trips.open).toBe(0);
    expect(trips.closed.map((t) => [t.direction, t.grossPnlPaise, t.chargesPaise, t.netPnlPaise])).toEqual([
      ['LONG', 100, 10, 90],
      ['LONG', -50, 4, -54],
      ['SHORT', 50, 3, 47],
    ]);
    expect(roundTrips(fills.slice(0, 3)).open).toBe(1);
  });

  it('attributes P&L by strategy and by symbol, summing to the same total', () => {
    const byStrategy = attributionByStrategy(positions, fills);
    expect(byStrategy.a).toEqual({ realisedPaise: 100, unrealisedPaise: 0, chargesPaise: 10, netPnlPaise: 90, fills: 2, tradedValuePaise: 2100 });
    expect(byStrategy.b).toEqual({ realisedPaise: 0, unrealisedPaise: 0, chargesPaise: 7, netPnlPaise: -7, fills: 3, tradedValuePaise: 1800 });
    const bySymbol = attributionBySymbol(positions, fills);
    expect(bySymbol.X).toEqual({ realisedPaise: 100, unrealisedPaise: 0, chargesPaise: 17, netPnlPaise: 83, fills: 5, tradedValuePaise: 3900 });
  });

  it('marks a strategy’s open position at the portfolio’s last price', () => {
    const open = [fill('s', 'BUY', 4, 100, 1)];
    const marked = [{ ...applyFill(emptyPosition('X', 'MIS'), open[0]!), lastPricePaise: 125 }];
    expect(attributionByStrategy(marked, open).s).toMatchObject({ unrealisedPaise: 100, chargesPaise: 1, netPnlPaise: 99 });
  });

  it('puts it all together', () => {
    const m = computeMetrics({ initialCashPaise: start, equity, fills, positions });
    expect(m).toMatchObject({
      days: 3,
      startEquityPaise: 100_000,
      endEquityPaise: 108_900,
      totalReturnPct: 8.9,
      maxDrawdownPaise: 11_000,
      maxDrawdownPct: 10,
      maxDrawdownPeakDate: '2024-01-30',
      maxDrawdownTroughDate: '2024-01-31',
      trades: 5,
      roundTrips: 3,
      wins: 2,
      losses: 1,
      winRatePct: 66.666667,
      averageWinPaise: 69, // (90 + 47) / 2 = 68.5, rounded half away from zero
      averageLossPaise: -54,
      turnoverPaise: 3900,
      turnoverRatio: 0.039,
      chargesPaise: 17,
    });
    // 2024 on the NSE calendar: 262 weekdays, 17 weekday holidays, 3 Saturday sessions (20 Jan, 2 Mar, 18 May) → 248 trading days
    let weekdays = 0;
    for (let ms = Date.UTC(2024, 0, 1); ms <= Date.UTC(2024, 11, 31); ms += 86_400_000) if (![0, 6].includes(new Date(ms).getUTCDay())) weekdays += 1;
    expect(weekdays).toBe(262);
    expect(m.tradingDaysPerYear).toBe(weekdays - 17 + 3);
    // mean 1/30, sample sd √(0.02666…/2): Sharpe (1/30)/0.11547 × √248; Sortino (1/30)/√(0.01/3) × √248; CAGR 1.089^(248/3) − 1
    expect(m.sharpe).toBeCloseTo((1 / 30 / Math.sqrt(0.04 / 3)) * Math.sqrt(248), 5);
    expect(m.sortino).toBeCloseTo((1 / 30 / Math.sqrt(0.01 / 3)) * Math.sqrt(248), 5);
    expect(m.cagrPct!).toBeCloseTo((1.089 ** (248 / 3) - 1) * 100, 0);
    const flat = computeMetrics({ initialCashPaise: start, equity: [], fills: [], positions: [] });
    expect(flat).toMatchObject({ days: 0, cagrPct: null, sharpe: null, sortino: null, maxDrawdownPaise: 0, maxDrawdownPeakDate: null, winRatePct: null });
  });
});
