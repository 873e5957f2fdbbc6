/**
 * The fill model of daily bars: a decision on day t's close fills at day t+1's open. The
 * expected creation time, fill time and fill price of every order are computed here from
 * the CSV text itself (the next row's open, moved by the slippage against the trader onto
 * the 5-paise grid), not by the code under test.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../src/backtest/backtest.js';
import { renderReport } from '../../src/backtest/report.js';
import { stableJson } from '../../src/backtest/stable-json.js';

const DAILY = resolve(process.cwd(), '../shared/data/nse-daily');
const SYMBOLS = ['INFY', 'SBIN', 'TCS'];
const SLIPPAGE_BPS = 10;
const FROM = '2023-01-01';
const TO = '2024-12-31';

interface Row {
  readonly date: string;
  readonly openPaise: number;
}

/** The rows of a symbol's file: date and open in paise, parsed from the decimal text. */
function rowsOf(symbol: string): Row[] {
  return readFileSync(join(DAILY, `${symbol}.csv`), 'utf8')
    .split('\n')
    .slice(1)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [stamp, open] = line.split(',');
      const [rupees, fraction = ''] = open!.split('.');
      return { date: stamp!.slice(0, 10), openPaise: Number(rupees) * 100 + Number(fraction.padEnd(2, '0').slice(0, 2)) };
    });
}

/** Epoch ms of an IST wall time. */
const ist = (date: string, time: string): number => Date.parse(`${date}T${time}+05:30`);

describe('daily bars: decision on the close, fill at the next open', () => {
  it('creates each order at the last moment of its bar and fills it at the open of the next row ± slippage', async () => {
    const rows = new Map(SYMBOLS.map((symbol) => [symbol, rowsOf(symbol).filter((row) => row.date >= FROM && row.date <= TO)]));
    // the grid: every open of these files sits on 5 paise (and not all on 10)
    const opens = [...rows.values()].flat().map((row) => row.openPaise);
    expect(opens.every((open) => open % 5 === 0)).toBe(true);
    expect(opens.some((open) => open % 10 !== 0)).toBe(true);

    const result = await runBacktest({
      dataDir: DAILY,
      strategyKind: 'ema-cross',
      strategyConfig: { source: '1d', product: 'CNC', quantity: 5 },
      symbols: SYMBOLS,
      fromMs: ist(FROM, '00:00:00'),
      toMs: ist('2025-01-01', '00:00:00'),
      broker: { slippageBps: SLIPPAGE_BPS },
    });
    expect(result.orders.length).toBeGreaterThan(10);
    const filled = result.orders.filter((order) => order.status === 'COMPLETE');
    expect(filled.length).toBeGreaterThan(10);

    for (const order of result.orders) {
      const series = rows.get(order.symbol)!;
      const index = series.findIndex((row) => ist(row.date, '15:29:59.999') === order.createdAtMs);
      expect(index, `${order.clientOrderId} created at ${new Date(order.createdAtMs).toISOString()}, not at a bar's close`).toBeGreaterThanOrEqual(0);
      const next = series[index + 1];
      if (next === undefined) {
        expect(order.status).toBe('OPEN'); // decided on the last bar: no next open to fill at
        continue;
      }
      const fills = result.fills.filter((fill) => fill.clientOrderId === order.clientOrderId);
      expect(fills).toHaveLength(1);
      const fill = fills[0]!;
      expect(fill.atMs).toBe(ist(next.date, '09:15:00.000'));
      // slippage against the trader, exact: buy ⌈open × 1.001⌉ up to the 5-paise grid, sell ⌊open × 0.999⌋ down to it
      const grid = 10_000 * 5;
      const expected =
        order.side === 'BUY'
          ? Math.floor((next.openPaise * (10_000 + SLIPPAGE_BPS) + grid - 1) / grid) * 5
          : Math.floor((next.openPaise * (10_000 - SLIPPAGE_BPS)) / grid) * 5;
      expect(fill.pricePaise, `${order.clientOrderId} ${order.side} ${order.symbol} on ${next.date}, open ${next.openPaise}`).toBe(expected);
    }

    expect(result.meta.fillModel).toMatch(/^fill model: next bar open/);
    expect(renderReport(result)).toContain('Fill model: next bar open');
    // byte-deterministic
    const again = await runBacktest({
      dataDir: DAILY,
      strategyKind: 'ema-cross',
      strategyConfig: { source: '1d', product: 'CNC', quantity: 5 },
      symbols: SYMBOLS,
      fromMs: ist(FROM, '00:00:00'),
      toMs: ist('2025-01-01', '00:00:00'),
      broker: { slippageBps: SLIPPAGE_BPS },
    });
    expect(stableJson(again)).toBe(stableJson(result));
  });
});
