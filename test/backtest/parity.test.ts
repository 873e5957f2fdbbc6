/**
 * Parity: paper trading fed a replay gives the same orders and fills as the backtest.
 *
 * The paper-trading side is composed the way `src/app.ts` composes the live runtime: a
 * `Runtime` whose clock is the market's time (the replay's current exchange time), the
 * market-data pipeline with the live bar intervals (1m and 5m) feeding `offerTicks` /
 * `offerBars`, orders and fills taken from the event bus like the gateway does, the
 * portfolio `paper`. Its source is the file replay of paper trading, `steppedReplay$`
 * paced by the tree (`runtime.whenIdle`), the one the backtester uses too.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InMemorySnapshotStore } from '../../src/actors/core/index.js';
import { runBacktest, loadCsvData, type BacktestData } from '../../src/backtest/backtest.js';
import { istTimeMs, type Fill, type Order, type Position } from '../../src/model/index.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { marketDataPipeline } from '../../src/streams/index.js';
import { steppedReplay$ } from '../../src/streams/sources/stepped-replay.js';

const DATA = resolve(process.cwd(), '../shared/data/nse-5min');
const SYMBOLS = ['INFY', 'SBIN', 'TCS'];
// five sessions of the 22: enough for both strategies to trade both ways
const FROM_MS = istTimeMs('2026-05-25', 0, 0);
const TO_MS = istTimeMs('2026-05-30', 0, 0);
const CASH_PAISE = 1_00_00_000_00;

interface Traded {
  readonly orders: readonly Omit<Order, 'portfolioId'>[];
  readonly fills: readonly Omit<Fill, 'portfolioId'>[];
  readonly positions: readonly Position[];
}

const withoutPortfolio = <T extends { readonly portfolioId: string }>(record: T): Omit<T, 'portfolioId'> => {
  const { portfolioId: _ignored, ...rest } = record;
  return rest;
};

/** Paper trading (as src/app.ts wires it) on a replay of `data`. */
async function paperTrade(
  data: BacktestData,
  strategy: { readonly strategyId: string; readonly kind: string; readonly config: Record<string, unknown> },
): Promise<Traded> {
  let marketTimeMs = 0;
  const runtime = new Runtime({
    instruments: data.instruments,
    strategies: [strategy],
    portfolio: { portfolioId: 'paper', initialCashPaise: CASH_PAISE },
    clock: { nowMs: () => marketTimeMs },
    snapshotStore: new InMemorySnapshotStore(),
  });
  runtime.start();
  const orders = new Map<string, Order>();
  const fills: Fill[] = [];
  runtime.bus.on('OrderSubmitted', (event) => orders.set(event.order.clientOrderId, event.order));
  runtime.bus.on('OrderUpdated', (event) => orders.set(event.order.clientOrderId, event.order));
  runtime.bus.on('OrderFilled', (event) => {
    orders.set(event.order.clientOrderId, event.order);
    fills.push(event.fill);
  });
  await new Promise<void>((done, fail) => {
    marketDataPipeline({
      source$: steppedReplay$(data, { ready: () => runtime.whenIdle(), onStep: (atMs) => (marketTimeMs = atMs) }),
      instruments: data.instruments,
      onRejected: (rejection) => fail(new Error(`replayed tick rejected: ${rejection.reason}`)),
      onTicks: (symbol, ticks) => runtime.offerTicks(symbol, ticks),
      onBars: (bars) => runtime.offerBars(bars),
      barIntervals: ['1m', '5m'],
      onError: fail,
      onComplete: done,
    });
  });
  await runtime.whenIdle();
  const state = runtime.portfolio();
  await runtime.stop();
  const positions = Object.keys(state?.positions ?? {})
    .sort()
    .map((key) => state!.positions[key]!);
  return {
    orders: [...orders.values()].sort((a, b) => a.createdAtMs - b.createdAtMs || a.clientOrderId.localeCompare(b.clientOrderId)).map(withoutPortfolio),
    fills: fills.map(withoutPortfolio),
    positions,
  };
}

const STRATEGIES = [
  // on every tick (the default feed of ema-cross)
  { strategyId: 'ema', kind: 'ema-cross', config: { symbols: SYMBOLS, fastPeriod: 5, slowPeriod: 20, quantity: 10 } },
  // on closed 5-minute bars, intraday, flat by the exit time
  { strategyId: 'vwap', kind: 'vwap-reversion', config: { symbols: SYMBOLS, entryBps: 20, firstEntryTime: '09:30' } },
] as const;

describe('parity between the backtest and paper trading on the same replay', () => {
  it.each(STRATEGIES)('$kind: the same orders, fills and positions, to the id, paisa and millisecond', async (strategy) => {
    const data = await loadCsvData(DATA, { symbols: SYMBOLS, fromMs: FROM_MS, toMs: TO_MS });
    const backtest = await runBacktest({
      dataDir: DATA,
      data,
      strategyKind: strategy.kind,
      strategyId: strategy.strategyId,
      strategyConfig: { ...strategy.config },
      initialCashPaise: CASH_PAISE,
    });
    const paper = await paperTrade(data, { ...strategy, config: { ...strategy.config } });

    expect(backtest.fills.length).toBeGreaterThan(4);
    expect(new Set(backtest.fills.map((fill) => fill.side))).toEqual(new Set(['BUY', 'SELL']));
    // ids, sides, quantities, prices, charges and timestamps, in order
    expect(paper.fills).toEqual(backtest.fills.map(withoutPortfolio));
    expect(paper.orders).toEqual(backtest.orders.map(withoutPortfolio));
    expect(paper.positions).toEqual(backtest.positions);
  });
});
