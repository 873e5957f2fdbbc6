import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../src/actors/core/index.js';
import { ManualClock } from '../../src/runtime/clock.js';
import { RuntimeUnavailable, type RuntimeFacade } from '../../src/runtime/facade.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { instrument, manualIntent, ticksFromPrices } from '../support/builders.js';

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
});

function start(): { facade: RuntimeFacade; runtime: Runtime; clock: ManualClock } {
  const clock = new ManualClock(Date.parse('2026-05-20T04:00:00Z'));
  runtime = new Runtime({
    instruments: [instrument('INFY', 100_000, 257)],
    strategies: [{ strategyId: 'ema', kind: 'ema-cross', config: { fastPeriod: 2, slowPeriod: 4, quantity: 5 } }],
    portfolio: { portfolioId: 'paper', initialCashPaise: 10_00_000_00 },
    clock,
    riskLimits: { maxOrderQuantity: 100 },
  });
  runtime.start();
  return { facade: runtime.facade, runtime, clock };
}

/** What crosses a message port: structured-clone-able plain data, equal after the copy. */
function expectMessageShaped(value: unknown): void {
  expect(structuredClone(value)).toEqual(value);
  expect(JSON.parse(JSON.stringify(value))).toEqual(value);
}

describe("RuntimeFacade (the gateway's only way into the runtime)", () => {
  it('answers queries with plain data: description, portfolios, quotes, actors, strategies, orders, risk report', async () => {
    const { facade, runtime: rt, clock } = start();
    for (const tick of ticksFromPrices('INFY', [100_000, 100_500], clock.nowMs())) {
      clock.advanceTo(tick.exchangeTimeMs);
      rt.offerTicks(tick.symbol, [tick]);
      await rt.whenIdle();
    }
    expect(facade.description.portfolioIds).toEqual(['paper']);
    expect(facade.description.riskLimits.maxOrderQuantity).toBe(100);
    expect(facade.portfolios().map((reading) => reading.state.portfolioId)).toEqual(['paper']);
    expect(facade.quotes().map((quote) => quote.ltpPaise)).toEqual([100_500]);
    expect(await facade.strategyIds()).toEqual(['ema']);
    expect((await facade.strategySpec('ema'))?.kind).toBe('ema-cross');
    expect(await facade.strategySpec('nope')).toBeUndefined();
    await expect(facade.strategyStatus('nope')).rejects.toBeInstanceOf(RuntimeUnavailable);
    for (const value of [
      facade.description,
      facade.portfolios(),
      facade.quotes(),
      facade.actors(),
      await facade.strategyIds(),
      await facade.strategySpec('ema'),
      await facade.strategyStatus('ema'),
      await facade.orders(),
      await facade.riskReport(),
    ]) {
      expectMessageShaped(value);
    }
  });

  it('submits an order through risk and answers once it is journaled (or refused); cancels; pauses; kill switch', async () => {
    const { facade, runtime: rt, clock } = start();
    for (const tick of ticksFromPrices('INFY', [100_000], clock.nowMs())) rt.offerTicks(tick.symbol, [tick]);
    await rt.whenIdle();
    const refused = await facade.submitOrder(manualIntent(1_000, 1), 'manual1');
    expect(refused).toMatchObject({ outcome: 'rejected', code: 'max-order-quantity' });
    const placed = await facade.submitOrder({ ...manualIntent(5, 2), orderType: 'LIMIT', limitPricePaise: 98_000 }, 'manual2');
    expect(placed).toEqual({ outcome: 'submitted', clientOrderId: 'manual2' });
    expectMessageShaped(placed);
    expect((await facade.orders()).map((order) => order.clientOrderId)).toContain('manual2');
    await facade.cancelOrder('manual2', 'tester');
    await eventually(async () => expect((await facade.orders()).find((order) => order.clientOrderId === 'manual2')?.status).toBe('CANCELLED'));
    expect(await facade.pauseStrategies(['ema', 'nope'])).toEqual(['ema']);
    await eventually(async () => expect((await facade.strategyStatus('ema')).paused).toBe(true));
    expect(await facade.resumeStrategies(['ema'])).toEqual(['ema']);
    expect(await facade.engageKillSwitch('tester', 'drill')).toBe(true);
    expect(await facade.engageKillSwitch('tester', 'again')).toBe(false);
    expect((await facade.riskReport()).killSwitch).not.toBeNull();
    expect(await facade.releaseKillSwitch('tester')).toBe(true);
    expect(await facade.injectFault('/nowhere')).toBe(false);
  });
});

describe('the gateway reaches the runtime only through the facade', () => {
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? files(join(dir, name)) : name.endsWith('.ts') ? [join(dir, name)] : []));
  it('no gateway module names the actor system, the directory, an actor or Runtime itself', () => {
    const offenders: string[] = [];
    for (const file of files('src/gateway')) {
      const text = readFileSync(file, 'utf8');
      for (const [index, line] of text.split('\n').entries()) {
        if (/\.(directory|system)\b|from '[./]*\/actors\/|runtime\/runtime\.js'|observability\/event-bus\.js'/.test(line))
          offenders.push(`${file}:${index + 1}: ${line.trim()}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
