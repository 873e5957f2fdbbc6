/**
 * Issue 14, item 2: exits lost to the order rate limit. With 30 symbols (the 10 of nse-5min
 * and two renamed copies of each, so every decision is taken three times on the same bar),
 * vwap-reversion and opening-range send more than the 10 orders a second the risk manager
 * allows on one bar, their 15:15 exits included. Run on the backtest's tree (same runtime,
 * simulated clock, stepped replay), every day must end flat before the 15:20 square-off and
 * every intent must end filled, or refused for a reason other than pacing: none is lost.
 * The checks below are computed here from the fills and events, not by the code under test.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InMemorySnapshotStore } from '../../src/actors/core/index.js';
import { loadCsvData, selectData, type BacktestData } from '../../src/backtest/backtest.js';
import type { Bar, Fill, Instrument, Order, RiskAlert } from '../../src/model/index.js';
import { ManualClock } from '../../src/runtime/clock.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { marketDataPipeline } from '../../src/streams/index.js';
import { steppedReplay$ } from '../../src/streams/sources/stepped-replay.js';

const DATA = resolve(process.cwd(), '../shared/data/nse-5min');
// four sessions (29 May to 3 June 2026) on which both strategies exit more than 10 symbols at 15:15
const FROM_MS = Date.parse('2026-05-29T00:00:00+05:30');
const TO_MS = Date.parse('2026-06-04T00:00:00+05:30');
const COPIES = ['', 'B', 'C'];
const PACING = new Set(['max-orders-per-second', 'max-orders-per-second-strategy']);
const IST_OFFSET_MS = 330 * 60_000;
/** IST date and minute of day, computed here (not with the model's helpers). */
const ist = (ms: number): { date: string; minute: number } => {
  const shifted = new Date(ms + IST_OFFSET_MS);
  return { date: shifted.toISOString().slice(0, 10), minute: shifted.getUTCHours() * 60 + shifted.getUTCMinutes() };
};

/** The data with each symbol copied under new names (same bars): three decisions per bar instead of one. */
function tripled(data: BacktestData): BacktestData {
  const instruments: Instrument[] = [];
  const bars = new Map<string, readonly Bar[]>();
  COPIES.forEach((suffix, copy) => {
    for (const instrument of data.instruments) {
      const symbol = `${instrument.symbol}${suffix}`;
      instruments.push({ ...instrument, symbol, token: instrument.token + copy * 1_000_000 });
      bars.set(
        symbol,
        (data.bars.get(instrument.symbol) ?? []).map((bar) => ({ ...bar, symbol })),
      );
    }
  });
  instruments.sort((a, b) => a.symbol.localeCompare(b.symbol));
  return { ...data, instruments, bars };
}

interface Run {
  readonly orders: readonly Order[];
  readonly fills: readonly Fill[];
  readonly alerts: readonly RiskAlert[];
  readonly intents: number;
  readonly paced: number;
  readonly pending: readonly unknown[];
  readonly metrics: string;
}

/** The backtest's tree (as `runBacktest` builds it) on `data`, with the events it publishes. */
async function run(data: BacktestData, kind: string): Promise<Run> {
  const clock = new ManualClock(0);
  const runtime = new Runtime({
    instruments: data.instruments,
    strategies: [{ strategyId: kind, kind, config: {} }],
    portfolio: { portfolioId: 'backtest', initialCashPaise: 1_00_00_000_00 },
    clock,
    logger: silentLogger(),
    snapshotStore: new InMemorySnapshotStore(),
    regimeInterval: data.interval,
  });
  const orders = new Map<string, Order>();
  const fills: Fill[] = [];
  const alerts: RiskAlert[] = [];
  runtime.bus.on('OrderSubmitted', (event) => orders.set(event.order.clientOrderId, event.order));
  runtime.bus.on('OrderUpdated', (event) => orders.set(event.order.clientOrderId, event.order));
  runtime.bus.on('OrderFilled', (event) => {
    orders.set(event.order.clientOrderId, event.order);
    fills.push(event.fill);
  });
  runtime.bus.on('RiskAlert', (alert) => alerts.push(alert));
  runtime.start();
  await new Promise<void>((done, fail) => {
    marketDataPipeline({
      source$: steppedReplay$(data, {
        ready: () => (runtime.runPending(1_000) === 0 ? undefined : runtime.whenIdle()),
        onStep: (atMs) => clock.advanceTo(atMs),
      }),
      instruments: data.instruments,
      onRejected: (rejection) => fail(new Error(`replayed tick rejected: ${rejection.reason}`)),
      onTicks: (symbol, ticks) => runtime.offerTicks(symbol, ticks),
      onBars: (bars) => runtime.offerBars(bars),
      barIntervals: [data.interval],
      onError: fail,
      onComplete: done,
    });
  });
  await runtime.whenIdle();
  const status = await runtime.strategyStatus(kind);
  const metrics = await runtime.metrics.registry.metrics();
  await runtime.stop();
  return { orders: [...orders.values()], fills, alerts, intents: status.stats.intents, paced: status.stats.paced, pending: status.pendingIntents, metrics };
}

describe('exits and the order rate limit (30 symbols, one decision per symbol on the same bar)', () => {
  for (const kind of ['vwap-reversion', 'opening-range']) {
    it(`${kind}: no intent is lost to pacing and every day ends flat before 15:20`, async () => {
      const result = await run(tripled(selectData(await loadCsvData(DATA), { fromMs: FROM_MS, toMs: TO_MS })), kind);

      // more than 10 symbols exited at 15:15 on one day (intents: as orders, or in alerts)…
      const exits = new Map<string, string>();
      for (const { intentId, reason, createdAtMs } of [...result.orders, ...result.alerts.flatMap((alert) => (alert.intent ? [alert.intent] : []))]) {
        if (reason?.includes('flat by 15:15 IST')) exits.set(intentId, ist(createdAtMs).date);
      }
      const exitsByDay = new Map<string, number>();
      for (const date of exits.values()) exitsByDay.set(date, (exitsByDay.get(date) ?? 0) + 1);
      expect(Math.max(...exitsByDay.values())).toBeGreaterThan(10);
      for (const order of result.orders) {
        const [strategyId, sequence] = order.intentId.split(':');
        expect(strategyId).toBe(kind);
        expect(Number(sequence)).toBeLessThan(result.intents);
      }
      // …and none was refused for pacing: they waited and went
      expect(result.alerts.filter((alert) => PACING.has(alert.code)).map((alert) => alert.message)).toEqual([]);
      expect(result.paced).toBeGreaterThan(0);
      expect(result.metrics).toMatch(/troupe_risk_paced_released_total [1-9]/);
      expect(result.metrics).toMatch(/troupe_risk_paced_queue_depth 0/);
      expect(result.pending).toEqual([]);

      // every intent ends filled, or refused for another reason (counted in an alert naming it)
      const orderByIntent = new Map(result.orders.map((order) => [order.intentId, order]));
      const refusedByIntent = new Map<string, string>();
      for (const alert of result.alerts) if (alert.intent && !PACING.has(alert.code)) refusedByIntent.set(alert.intent.intentId, alert.code);
      const lost: string[] = [];
      for (let sequence = 0; sequence < result.intents; sequence += 1) {
        const intentId = `${kind}:${sequence}`;
        const order = orderByIntent.get(intentId);
        if (order) {
          if (order.status !== 'COMPLETE' || order.filledQuantity !== order.quantity)
            lost.push(`${intentId}: order ${order.status}, ${order.filledQuantity}/${order.quantity}`);
        } else if (!refusedByIntent.has(intentId)) lost.push(`${intentId}: no order and no refusal`);
      }
      expect(lost).toEqual([]);
      expect(result.orders.length).toBeGreaterThan(60);

      // flat in every symbol at the end of every day, every fill before the 15:20 square-off
      const netByDay = new Map<string, number>();
      const fillsAfterCutoff: string[] = [];
      for (const fill of result.fills) {
        const { date, minute } = ist(fill.atMs);
        if (minute >= 15 * 60 + 20) fillsAfterCutoff.push(`${fill.symbol} ${date} ${minute}`);
        const key = `${fill.symbol} ${date}`;
        netByDay.set(key, (netByDay.get(key) ?? 0) + (fill.side === 'BUY' ? fill.quantity : -fill.quantity));
      }
      expect(fillsAfterCutoff).toEqual([]);
      expect([...netByDay].filter(([, net]) => net !== 0)).toEqual([]);
    }, 60_000);
  }
});
