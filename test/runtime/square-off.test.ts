import { afterEach, describe, expect, it } from 'vitest';
import type { RiskCommand, RiskStatus } from '../../src/actors/risk/risk.protocol.js';
import type { AutoSquareOff, Fill, Order, Tick } from '../../src/model/index.js';
import { ManualClock } from '../../src/runtime/clock.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { instrument, tick, ticksFromPrices } from '../support/builders.js';

/** IST wall time on 2026-05-20, from the UTC+05:30 offset. */
const ist = (hh: number, mm: number, ss = 0): number => Date.parse('2026-05-20T00:00:00Z') - 330 * 60_000 + ((hh * 60 + mm) * 60 + ss) * 1000;
// falling, then rising: an upward cross of EMA(2) over EMA(4) buys 5 (MIS)
const dipAndRise = [100_000, 99_000, 98_000, 97_000, 96_000, 95_000, 100_000, 106_000, 112_000];

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
});

async function feed(rt: Runtime, clock: ManualClock, ticks: readonly Tick[]): Promise<void> {
  for (const one of ticks) {
    clock.advanceTo(one.exchangeTimeMs);
    rt.offerTicks(one.symbol, [one]);
    await rt.whenIdle();
  }
}

describe('runtime (paper): the broker squares off MIS positions at 15:20 IST', () => {
  it("closes the strategy's MIS position with an auto-square-off order; portfolio, risk and strategy all see the fill; later MIS intents are refused", async () => {
    const clock = new ManualClock(ist(9, 30));
    const rt = new Runtime({
      instruments: [instrument('INFY', 100_000, 257)],
      strategies: [{ strategyId: 'ema', kind: 'ema-cross', config: { fastPeriod: 2, slowPeriod: 4, quantity: 5 } }],
      portfolio: { portfolioId: 'paper', initialCashPaise: 10_00_000_00 },
      clock,
      riskLimits: { maxOrdersPerSecond: 1000, maxOrdersPerSecondPerStrategy: 1000 },
    });
    runtime = rt;
    rt.start();
    const squareOffs: AutoSquareOff[] = [];
    const filled: { order: Order; fill: Fill }[] = [];
    const alerts: string[] = [];
    rt.bus.on('AutoSquareOff', (event) => squareOffs.push(event));
    rt.bus.on('OrderFilled', (event) => filled.push({ order: event.order, fill: event.fill }));
    rt.bus.on('RiskAlert', (event) => alerts.push(event.code));

    await feed(rt, clock, ticksFromPrices('INFY', dipAndRise, ist(9, 30)));
    expect((await rt.askPortfolio()).state.positions['INFY:MIS']?.netQuantity).toBe(5);
    expect(squareOffs).toEqual([]);

    await feed(rt, clock, [tick({ symbol: 'INFY', ltpPaise: 111_000, volume: 1_000, lastQuantity: 100, exchangeTimeMs: ist(15, 20) })]);

    expect(squareOffs).toMatchObject([{ portfolioId: 'paper', strategyId: 'ema', symbol: 'INFY', side: 'SELL', quantity: 5, atMs: ist(15, 20), late: false }]);
    const last = filled.at(-1);
    expect(last?.order).toMatchObject({
      reason: 'auto-square-off',
      strategyId: 'ema',
      side: 'SELL',
      quantity: 5,
      status: 'COMPLETE',
      clientOrderId: squareOffs[0]?.orders[0],
    });
    expect(last?.fill).toMatchObject({ side: 'SELL', quantity: 5, pricePaise: 111_000, product: 'MIS' });
    // everyone learns of it like any other fill
    expect((await rt.askPortfolio()).state.positions['INFY:MIS']?.netQuantity).toBe(0);
    const status = await rt.strategyStatus('ema');
    expect(status.positions.INFY).toBe(0);
    expect(status.workingIntents).toBe(0);
    const risk = await rt.system.ask<RiskCommand, RiskStatus>(rt.directory.requireRisk(), (replyTo) => ({ type: 'GetStatus', replyTo }), 2000);
    expect(risk.exposures['paper:INFY']).toEqual({ net: 0, working: 0 });
    expect(await rt.metrics.text()).toMatch(/^troupe_auto_square_off_orders_total 1$/m);

    // after the cut-off a new upward cross wants MIS again: risk refuses it (mis-cutoff), nothing is placed
    const before = filled.length;
    await feed(rt, clock, ticksFromPrices('INFY', dipAndRise, ist(15, 22)));
    expect(alerts).toContain('mis-cutoff');
    expect(filled.length).toBe(before);
    expect((await rt.askPortfolio()).state.positions['INFY:MIS']?.netQuantity).toBe(0);
  });
});
