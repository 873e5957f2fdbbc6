import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../src/backtest/backtest.js';
import { renderReport } from '../../src/backtest/report.js';
import { stableJson } from '../../src/backtest/stable-json.js';
import { formatInr, istDate, istTimeMs, signedQuantity } from '../../src/model/index.js';

const data = resolve(process.cwd(), '../shared/data/nse-5min');
const options = {
  dataDir: data,
  strategyKind: 'ema-cross',
  strategyConfig: { source: '5m', fastPeriod: 5, slowPeriod: 20, quantity: 10 },
  symbols: ['INFY', 'TCS', 'SBIN'],
} as const;

describe('backtest', () => {
  it('replays real 5-minute NSE data through the tree and gives byte-identical results on rerun', async () => {
    const first = await runBacktest({ ...options, strategyConfig: { ...options.strategyConfig }, symbols: [...options.symbols] });
    const second = await runBacktest({ ...options, strategyConfig: { ...options.strategyConfig }, symbols: [...options.symbols] });
    expect(stableJson(second)).toBe(stableJson(first));

    expect(first.meta.symbols).toEqual(['INFY', 'SBIN', 'TCS']);
    expect(first.meta.bars).toBe(3 * 22 * 75);
    expect(first.meta.ticks).toBeGreaterThan(first.meta.bars * 2);
    expect(first.summary.fills).toBeGreaterThan(10);

    // positions are the sum of the fills, symbol by symbol
    for (const position of first.positions) {
      const sum = first.fills.filter((f) => f.symbol === position.symbol).reduce((total, f) => total + signedQuantity(f), 0);
      expect(position.netQuantity).toBe(sum);
    }
    // exact money: equity = cash + market value; P&L = equity − initial cash
    const s = first.summary;
    expect(s.cashPaise + s.marketValuePaise).toBe(s.equityPaise);
    expect(s.realisedPaise + s.unrealisedPaise - s.chargesPaise).toBe(s.equityPaise - s.initialCashPaise);
    expect(s.chargesPaise).toBe(first.fills.reduce((total, f) => total + f.chargesPaise, 0));
    for (const fill of first.fills) expect(Number.isSafeInteger(fill.pricePaise)).toBe(true);

    // one end-of-day equity per IST day with ticks, exact, ending at the final equity
    expect(first.equity.length).toBe(22);
    expect(first.equity.map((d) => d.date)).toEqual([...new Set(first.equity.map((d) => d.date))].sort());
    expect(first.equity[0]!.date).toBe(istDate(first.meta.firstTickMs!));
    expect(first.equity.at(-1)!.equityPaise).toBe(s.equityPaise);
    for (const day of first.equity) expect(Number.isSafeInteger(day.equityPaise)).toBe(true);

    const m = first.metrics;
    expect(m.days).toBe(22);
    expect(m.trades).toBe(s.fills);
    expect(m.chargesPaise).toBe(s.chargesPaise);
    expect(m.endEquityPaise).toBe(s.equityPaise);
    expect(m.roundTrips).toBe(m.wins + m.losses);
    expect(m.roundTrips).toBeGreaterThan(0);
    expect(m.maxDrawdownPaise).toBeGreaterThanOrEqual(0);
    const sumNet = (rows: Record<string, { netPnlPaise: number }>) => Object.values(rows).reduce((total, a) => total + a.netPnlPaise, 0);
    expect(Object.keys(m.byStrategy)).toEqual(['ema-cross']);
    expect(sumNet(m.byStrategy)).toBe(s.netPnlPaise);
    expect(Object.keys(m.bySymbol)).toEqual(['INFY', 'SBIN', 'TCS']);
    expect(sumNet(m.bySymbol)).toBe(s.netPnlPaise);
    expect(m.monthlyReturns.at(-1)!.endEquityPaise).toBe(s.equityPaise);

    // the HTML report: self-contained, carries the key figures, same bytes twice
    const html = renderReport(first);
    expect(renderReport(second)).toBe(html);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|@import|@font-face|src=/i);
    expect(html.match(/<svg /g)?.length).toBe(2);
    for (const figure of [
      formatInr(s.netPnlPaise),
      formatInr(s.chargesPaise),
      formatInr(m.maxDrawdownPaise),
      'Sharpe',
      'Sortino',
      'CAGR',
      'Win rate',
      'Turnover',
      'Monthly returns',
      'Attribution by strategy',
      'Attribution by symbol',
    ]) {
      expect(html).toContain(figure.replace(/&/g, '&amp;'));
    }
    expect(html.match(/<tr>/g)!.length).toBeGreaterThan(s.fills);
    const many = renderReport({ ...first, fills: Array.from({ length: 2500 }, (_, i) => first.fills[i % first.fills.length]!) });
    expect(many).toContain('Showing the first 2,000 of 2,500 fills');
  });

  it('replays only the dates asked for', async () => {
    const all = await runBacktest({ ...options, strategyConfig: { ...options.strategyConfig }, symbols: ['INFY'] });
    const dates = all.equity.map((d) => d.date);
    const from = istTimeMs(dates[2]!, 0, 0);
    const to = istTimeMs(dates[5]!, 0, 0);
    const part = await runBacktest({ ...options, strategyConfig: { ...options.strategyConfig }, symbols: ['INFY'], fromMs: from, toMs: to });
    expect(part.equity.map((d) => d.date)).toEqual(dates.slice(2, 5));
    expect(part.meta.firstTickMs).toBeGreaterThanOrEqual(from);
    expect(part.meta.lastTickMs).toBeLessThan(to);
    expect(part.meta.bars).toBe(3 * 75);
  });

  it('says clearly when the folder has no data', async () => {
    await expect(runBacktest({ dataDir: resolve(process.cwd(), 'test'), strategyKind: 'ema-cross' })).rejects.toThrow(/no usable CSV files/);
  });

  it('runs an ensemble beside the strategies whose signals it trades, each order explained by the vote', async () => {
    const run = () =>
      runBacktest({
        dataDir: data,
        strategyKind: 'ensemble',
        strategyConfig: { symbols: ['INFY', 'TCS'], quantity: 5 },
        companions: [{ kind: 'ema-cross', config: { source: '5m', fastPeriod: 5, slowPeriod: 20, quantity: 10 } }, { kind: 'rsi-reversion' }],
        symbols: ['INFY', 'TCS'],
        toMs: istTimeMs('2026-06-01', 0, 0),
      });
    const first = await run();
    const ensembleOrders = first.orders.filter((order) => order.strategyId === 'ensemble');
    expect(ensembleOrders.length).toBeGreaterThan(0);
    for (const order of ensembleOrders) {
      expect(order.reason).toMatch(/^aggregate vote: (BUY|SELL|FLAT) (INFY|TCS): /);
      expect(order.explanation?.signals?.length).toBeGreaterThan(0);
    }
    // the companions trade too, under their own ids, and are recorded in the result
    expect(new Set(first.orders.map((order) => order.strategyId))).toEqual(new Set(['ensemble', 'ema-cross', 'rsi-reversion']));
    expect(first.meta.companions?.map((c) => c.strategyId)).toEqual(['ema-cross', 'rsi-reversion']);
    expect(stableJson(await run())).toBe(stableJson(first));
  });

  it('refuses two strategies with one id', async () => {
    await expect(runBacktest({ ...options, companions: [{ kind: 'rsi-reversion', strategyId: 'ema-cross' }] })).rejects.toThrow(
      /two strategies of the backtest have the id "ema-cross"/,
    );
  });
});
