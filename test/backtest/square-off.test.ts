// The acceptance test: a backtest of every strategy on the 5-minute NSE data ends every
// day flat in MIS. The check folds result.json's fills per IST day here, independently of the
// portfolio code; the broker's square-off orders and their charges must be in result.json and
// in the report.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBacktest, type BacktestOptions, type BacktestResult } from '../../src/backtest/backtest.js';
import { renderReport } from '../../src/backtest/report.js';
import { stableJson } from '../../src/backtest/stable-json.js';

const dataDir = resolve(process.cwd(), '../shared/data/nse-5min');
const FEE = 50_00 + (50_00 * 18) / 100; // ₹50 + 18% GST, written out

/** Every strategy, with the settings it needs on this data (pairs: two symbols; the ensemble trades the vote of two others). */
const RUNS: readonly Pick<BacktestOptions, 'strategyKind' | 'strategyConfig' | 'companions'>[] = [
  { strategyKind: 'ema-cross' },
  { strategyKind: 'rsi-reversion' },
  { strategyKind: 'breakout' },
  { strategyKind: 'vwap-reversion' },
  { strategyKind: 'opening-range' },
  { strategyKind: 'tutorial-sma' },
  { strategyKind: 'momentum-rotation' },
  { strategyKind: 'pairs', strategyConfig: { symbols: ['HDFCBANK', 'ICICIBANK'] } },
  { strategyKind: 'ensemble', companions: [{ kind: 'ema-cross' }, { kind: 'rsi-reversion' }] },
];

/** IST date of an instant, from the UTC+05:30 offset. */
const istDay = (ms: number): string => new Date(ms + 330 * 60_000).toISOString().slice(0, 10);

/** Net MIS quantity per day, strategy and symbol at the end of each IST day with fills, folded from the fills alone. */
function misCarriedOvernight(result: BacktestResult): string[] {
  const open = new Map<string, number>();
  const carried: string[] = [];
  let day: string | undefined;
  const closeDay = (): void => {
    for (const [key, net] of open) if (net !== 0) carried.push(`${day} ${key}: ${net}`);
  };
  for (const fill of result.fills) {
    const today = istDay(fill.atMs);
    if (day !== undefined && today !== day) closeDay();
    day = today;
    if (fill.product !== 'MIS') continue;
    const key = `${fill.strategyId} ${fill.symbol}`;
    open.set(key, (open.get(key) ?? 0) + (fill.side === 'BUY' ? fill.quantity : -fill.quantity));
  }
  closeDay();
  return carried;
}

describe('MIS auto square-off on real 5-minute data (issue #14, acceptance)', () => {
  it('every strategy ends every day flat in MIS; the square-off orders and their charges are in result.json and the report', async () => {
    const squaredOff: Record<string, number> = {};
    for (const run of RUNS) {
      const result = await runBacktest({ dataDir, ...run });
      const json = JSON.parse(stableJson(result)) as BacktestResult; // what result.json holds
      expect(misCarriedOvernight(json), run.strategyKind).toEqual([]);

      const orders = json.orders.filter((order) => order.reason === 'auto-square-off');
      const ids = new Set(orders.map((order) => order.clientOrderId));
      const fills = json.fills.filter((fill) => ids.has(fill.clientOrderId));
      for (const order of orders) {
        expect(order).toMatchObject({ product: 'MIS', orderType: 'MARKET', status: 'COMPLETE' });
        expect(order.quantity).toBeLessThanOrEqual(30_000);
        // created at or after 15:20 IST
        const minute = Math.floor(((order.createdAtMs + 330 * 60_000) % 86_400_000) / 60_000);
        expect(minute).toBeGreaterThanOrEqual(15 * 60 + 20);
      }
      // the fee is in the charges: each order's first fill pays at least ₹59
      const firstFill = new Map<string, number>();
      for (const fill of fills) if (!firstFill.has(fill.clientOrderId)) firstFill.set(fill.clientOrderId, fill.chargesPaise);
      for (const charge of firstFill.values()) expect(charge).toBeGreaterThan(FEE);
      expect(json.summary.autoSquareOff).toEqual({
        orders: orders.length,
        fills: fills.length,
        quantity: fills.reduce((sum, fill) => sum + fill.quantity, 0),
        chargesPaise: fills.reduce((sum, fill) => sum + fill.chargesPaise, 0),
        callAndTradePaise: firstFill.size * FEE,
      });
      const report = renderReport(json);
      expect(report).toContain(`<h2>Auto square-off by the broker (${orders.length})</h2>`);
      squaredOff[run.strategyKind] = fills.length;
    }
    // the safety net did fire on this data (intraday strategies that hold into the close)
    expect(squaredOff['rsi-reversion']).toBeGreaterThan(0);
    expect(squaredOff['ema-cross']).toBeGreaterThan(0);
    // CNC strategies are never squared off
    expect(squaredOff['momentum-rotation']).toBe(0);
  }, 600_000);
});
