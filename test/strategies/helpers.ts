/** Shared helpers for the strategy tests: IST bar paths and backtest invariants. */
import { resolve } from 'node:path';
import { expect } from 'vitest';
import { runBacktest, type BacktestResult } from '../../src/backtest/backtest.js';
import { stableJson } from '../../src/backtest/stable-json.js';
import { istDate, istMinuteOfDay, istTimeMs, MIS_SQUARE_OFF_MINUTE, signedQuantity, type Bar, type BarInterval } from '../../src/model/index.js';
import { bar } from '../support/builders.js';

/** Folders of real NSE data (../shared/data, relative to the project root). */
export const FIVE_MINUTE_DATA = resolve(process.cwd(), '../shared/data/nse-5min');
export const DAILY_DATA = resolve(process.cwd(), '../shared/data/nse-daily');

/**
 * Bars of one symbol from a list of closes, `minutes` apart from an IST start time on an
 * IST date; open = previous close, high/low 0.1% around the bar, volume 1000 unless given.
 */
export function barsFromCloses(
  symbol: string,
  closes: readonly number[],
  options: { date?: string; start?: string; interval?: BarInterval; volumes?: readonly number[] } = {},
): Bar[] {
  const interval = options.interval ?? '5m';
  const minutes = interval === '1m' ? 1 : interval === '5m' ? 5 : interval === '15m' ? 15 : interval === '1h' ? 60 : 1440;
  const [hour, minute] = (options.start ?? '09:15').split(':').map(Number) as [number, number];
  const first = istTimeMs(options.date ?? '2026-05-20', hour, minute);
  return closes.map((close, index) => {
    const open = index === 0 ? close : closes[index - 1]!;
    return bar({
      symbol,
      interval,
      startMs: first + index * minutes * 60_000,
      openPaise: open,
      highPaise: Math.max(open, close) + 100,
      lowPaise: Math.min(open, close) - 100,
      closePaise: close,
      volume: options.volumes?.[index] ?? 1_000,
    });
  });
}

/** Runs a backtest twice; checks byte-identical results and the accounting invariants. */
export async function deterministicBacktest(options: Parameters<typeof runBacktest>[0]): Promise<BacktestResult> {
  const copy = (): Parameters<typeof runBacktest>[0] => structuredClone(options);
  const first = await runBacktest(copy());
  const second = await runBacktest(copy());
  expect(stableJson(second)).toBe(stableJson(first));
  // nothing refused by risk; the regime gate's refusals (strategies that declare regimes) and MIS entries
  // after the 15:20 IST cut-off (intraday strategies without a session end) are counted apart
  expect(first.summary.rejectedIntents).toBe((first.summary.riskAlerts['regime-gated'] ?? 0) + (first.summary.riskAlerts['mis-cutoff'] ?? 0));
  for (const position of first.positions) {
    const sum = first.fills.filter((f) => f.symbol === position.symbol).reduce((total, f) => total + signedQuantity(f), 0);
    expect(position.netQuantity).toBe(sum);
  }
  for (const fill of first.fills) {
    expect(Number.isSafeInteger(fill.quantity) && fill.quantity > 0).toBe(true);
    expect(Number.isSafeInteger(fill.pricePaise)).toBe(true);
  }
  for (const order of first.orders) expect(Number.isSafeInteger(order.quantity)).toBe(true);
  const s = first.summary;
  expect(s.cashPaise + s.marketValuePaise).toBe(s.equityPaise);
  return first;
}

/** Intraday invariant: every symbol is flat at the end of every IST day, and no fill is at or after 15:20. */
export function expectFlatEachDay(result: BacktestResult): void {
  const byDay = new Map<string, number>();
  for (const fill of result.fills) {
    const key = `${fill.symbol} ${istDate(fill.atMs)}`;
    byDay.set(key, (byDay.get(key) ?? 0) + signedQuantity(fill));
    expect(istMinuteOfDay(fill.atMs)).toBeLessThan(MIS_SQUARE_OFF_MINUTE);
    expect(fill.product).toBe('MIS');
  }
  for (const [key, net] of byDay) expect([key, net]).toEqual([key, 0]);
  for (const position of result.positions) expect(position.netQuantity).toBe(0);
}
