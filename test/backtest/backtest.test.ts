import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../src/backtest/backtest.js';
import { stableJson } from '../../src/backtest/stable-json.js';
import { signedQuantity } from '../../src/model/index.js';

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
  });

  it('says clearly when the folder has no data', async () => {
    await expect(runBacktest({ dataDir: resolve(process.cwd(), 'test'), strategyKind: 'ema-cross' })).rejects.toThrow(/no usable CSV files/);
  });
});
