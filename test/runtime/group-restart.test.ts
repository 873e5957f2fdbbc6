/**
 * Restarting a group (or a restartable singleton) must not cut anyone else off: the
 * directory's lists of inlets have one owner each, and a restart only replaces the entries
 * of the actors it re-creates. Each case restarts one actor while trading, then checks that
 * every consumer still receives what it received before (marks, ticks, bars), and that the
 * re-created children came back from their last state.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../src/actors/core/index.js';
import type { ActorHealth } from '../../src/actors/core/index.js';
import type { Tick } from '../../src/model/index.js';
import { ManualClock } from '../../src/runtime/clock.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { bar, instrument, ticksFromPrices } from '../support/builders.js';

const symbols = ['INFY', 'TCS', 'SBIN'];
const instruments = symbols.map((symbol, index) => instrument(symbol, 100_000, (index + 1) * 256 + 1));
// falling, then rising: the fast EMA crosses above the slow one and ema-cross buys
const rising = [100_000, 99_000, 98_000, 97_000, 96_000, 95_000, 100_000, 106_000, 112_000, 118_000];
const START_MS = Date.parse('2026-05-20T04:00:00Z');

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
});

function start(): { rt: Runtime; clock: ManualClock } {
  const clock = new ManualClock(START_MS);
  runtime = new Runtime({
    instruments,
    strategies: [
      // ticks of every symbol
      { strategyId: 'ema', kind: 'ema-cross', config: { fastPeriod: 2, slowPeriod: 4, quantity: 100 } },
      // one-minute bars of every symbol
      { strategyId: 'bars', kind: 'ema-cross', config: { fastPeriod: 2, slowPeriod: 4, quantity: 5, source: '1m' } },
    ],
    portfolio: { portfolioId: 'paper', initialCashPaise: 10_00_000_00 },
    clock,
    riskLimits: { maxOrdersPerSecond: 1000, maxOrdersPerSecondPerStrategy: 1000, maxDailyLossPaise: 20_000_00 },
    snapshotEveryMessages: 1,
    regimeInterval: '1m',
  });
  runtime.start();
  return { rt: runtime, clock };
}

async function feed(rt: Runtime, clock: ManualClock, ticks: readonly Tick[]): Promise<void> {
  for (const tick of ticks) {
    clock.advanceTo(tick.exchangeTimeMs);
    rt.offerTicks(tick.symbol, [tick]);
    await rt.whenIdle();
  }
}

function flatten(nodes: readonly ActorHealth[], into: ActorHealth[] = []): ActorHealth[] {
  for (const node of nodes) {
    into.push(node);
    flatten(node.children, into);
  }
  return into;
}

function health(rt: Runtime, path: string): ActorHealth | undefined {
  return flatten(rt.system.health()).find((node) => node.path === path);
}

const processed = (rt: Runtime, path: string): number => health(rt, path)?.processed ?? -1;

/** The mark the risk manager holds for a symbol (from its snapshot, taken after every message). */
function riskMark(rt: Runtime, symbol: string): number | undefined {
  const state = rt.system.lastSnapshot('/risk')?.state as { manager?: { marks?: Record<string, number> } } | undefined;
  return state?.manager?.marks?.[symbol];
}

/** Closed bars the regime detector has seen of a symbol (from its snapshot). */
function regimeBars(rt: Runtime, symbol: string): number {
  const state = rt.system.lastSnapshot('/regime')?.state as { symbols?: Record<string, { bars?: number }> } | undefined;
  return state?.symbols?.[symbol]?.bars ?? 0;
}

async function strategyStats(rt: Runtime, strategyId: string): Promise<{ ticks: number; bars: number }> {
  return (await rt.strategyStatus(strategyId)).stats;
}

/**
 * Offers one tick of `symbol` at `pricePaise` and one closed one-minute bar, and says, per
 * consumer, whether it got them: risk and the portfolio hold the new price as the mark, the
 * tick strategy counted a tick and the bar strategy a bar, the regime detector counted a bar;
 * the broker and the aggregator keep no trace of a bare tick or bar, so for them: a message
 * processed (the strategies are paused, so no order or signal is in flight).
 */
async function deliveries(rt: Runtime, clock: ManualClock, symbol: string, pricePaise: number): Promise<Record<string, boolean>> {
  await rt.whenIdle();
  const ema = await strategyStats(rt, 'ema');
  const bars = await strategyStats(rt, 'bars');
  const regime = regimeBars(rt, symbol);
  const execution = processed(rt, '/execution/paper');
  const aggregator = processed(rt, '/aggregator');
  clock.advanceTo(clock.nowMs() + 1000);
  rt.offerTicks(symbol, ticksFromPrices(symbol, [pricePaise], clock.nowMs()));
  await rt.whenIdle();
  rt.offerBars([
    bar({
      symbol,
      interval: '1m',
      startMs: clock.nowMs() - 60_000,
      openPaise: pricePaise,
      highPaise: pricePaise,
      lowPaise: pricePaise,
      closePaise: pricePaise,
    }),
  ]);
  await rt.whenIdle();
  return {
    'risk marks': riskMark(rt, symbol) === pricePaise,
    'portfolio marks': rt.portfolio()?.positions[`${symbol}:MIS`]?.lastPricePaise === pricePaise,
    'strategy ticks': (await strategyStats(rt, 'ema')).ticks > ema.ticks,
    'strategy bars': (await strategyStats(rt, 'bars')).bars > bars.bars,
    'regime bars': regimeBars(rt, symbol) > regime,
    'execution ticks': processed(rt, '/execution/paper') > execution,
    'aggregator bars': processed(rt, '/aggregator') > aggregator,
  };
}

const EVERYONE = {
  'risk marks': true,
  'portfolio marks': true,
  'strategy ticks': true,
  'strategy bars': true,
  'regime bars': true,
  'execution ticks': true,
  'aggregator bars': true,
};

const RESTARTABLE = ['/portfolios', '/execution', '/strategies', '/market', '/risk', '/regime', '/aggregator'] as const;

describe('runtime: restarting a group cuts no consumer off', () => {
  for (const target of RESTARTABLE) {
    it(`after ${target} restarts, risk and portfolios get marks, strategies ticks and bars, execution ticks, regime and aggregator bars`, async () => {
      const { rt, clock } = start();
      await feed(rt, clock, ticksFromPrices('INFY', rising, START_MS));
      const held = rt.portfolio()?.positions['INFY:MIS']?.netQuantity ?? 0;
      expect(held).toBeGreaterThan(0);
      const last = rising.at(-1)!;
      // paused strategies still receive everything but send no intents or orders
      for (const ref of rt.directory.strategies.values()) rt.system.tell(ref, { type: 'Pause' });

      expect(await deliveries(rt, clock, 'INFY', last + 100)).toEqual(EVERYONE);

      const position = rt.portfolio()?.positions['INFY:MIS'];
      const strategyPosition = (await rt.strategyStatus('ema')).positions.INFY;
      const restartsBefore = health(rt, target)?.restarts ?? 0;
      rt.system.injectFault(target, `test: restart ${target}`);
      await eventually(() => {
        const node = health(rt, target);
        expect(node?.restarts).toBe(restartsBefore + 1);
        expect(node?.status).toBe('running');
      });
      await rt.whenIdle();
      // the re-created children came back from their last state, not from scratch
      expect(rt.portfolio()?.positions['INFY:MIS']).toEqual(position);
      expect((await rt.strategyStatus('ema')).positions.INFY).toBe(strategyPosition);

      expect(await deliveries(rt, clock, 'INFY', last + 200)).toEqual(EVERYONE);
    });
  }

  it('after /portfolios restarts, the daily-loss kill switch still sees prices fall', async () => {
    const { rt, clock } = start();
    const alerts: string[] = [];
    rt.bus.on('RiskAlert', (alert) => alerts.push(alert.code));
    await feed(rt, clock, ticksFromPrices('INFY', rising, START_MS));
    const held = rt.portfolio()?.positions['INFY:MIS']?.netQuantity ?? 0;
    expect(held).toBeGreaterThan(0);

    // paused strategies send no intents: risk can learn the price only from its marks
    for (const ref of rt.directory.strategies.values()) rt.system.tell(ref, { type: 'Pause' });
    rt.system.injectFault('/portfolios', 'test: restart the portfolios');
    await eventually(() => expect(health(rt, '/portfolios')?.restarts).toBe(1));
    await rt.whenIdle();

    // a crash of the price: 100 shares lose far more than the daily limit (₹20,000)
    clock.advanceTo(clock.nowMs() + 1000);
    rt.offerTicks('INFY', ticksFromPrices('INFY', [1_000], clock.nowMs()));
    await rt.whenIdle();
    expect(alerts).toContain('kill-switch');
  });
});
