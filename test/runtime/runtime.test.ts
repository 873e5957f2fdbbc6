import { afterEach, describe, expect, it } from 'vitest';
import { eventually, InMemorySnapshotStore } from '../../src/actors/core/index.js';
import { summarisePortfolio, type Tick } from '../../src/model/index.js';
import { ManualClock } from '../../src/runtime/clock.js';
import { Runtime, type RuntimeOptions } from '../../src/runtime/runtime.js';
import { instrument, ticksFromPrices } from '../support/builders.js';
import type { AggregatorCommand } from '../../src/actors/aggregator/aggregator.protocol.js';
import type { Aggregation } from '../../src/signals/index.js';

const symbols = ['INFY', 'TCS', 'SBIN'];
const instruments = symbols.map((symbol, index) => instrument(symbol, 100_000, (index + 1) * 256 + 1));
// falling, then rising (an upward cross), then falling (a downward cross)
const wave = [100_000, 99_000, 98_000, 97_000, 96_000, 95_000, 100_000, 106_000, 112_000, 118_000, 110_000, 100_000, 90_000, 80_000, 79_000];

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
});

function start(overrides: Partial<RuntimeOptions> = {}): { runtime: Runtime; clock: ManualClock } {
  const clock = new ManualClock(Date.parse('2026-05-20T04:00:00Z'));
  runtime = new Runtime({
    instruments,
    strategies: [{ strategyId: 'ema', kind: 'ema-cross', config: { fastPeriod: 2, slowPeriod: 4, quantity: 5 } }],
    portfolio: { portfolioId: 'paper', initialCashPaise: 10_00_000_00 },
    clock,
    riskLimits: { maxOrdersPerSecond: 1000, maxOrdersPerSecondPerStrategy: 1000 },
    ...overrides,
  });
  runtime.start();
  return { runtime, clock };
}

async function feed(rt: Runtime, clock: ManualClock, ticks: readonly Tick[]): Promise<void> {
  for (const tick of ticks) {
    clock.advanceTo(tick.exchangeTimeMs);
    rt.offerTicks(tick.symbol, [tick]);
    await rt.whenIdle();
  }
}

describe('runtime: a tick becomes an order, a fill and a position', () => {
  it('trades the EMA cross end to end through risk, the paper broker and the portfolio', async () => {
    const { runtime: rt, clock } = start();
    const events: string[] = [];
    rt.bus.on('OrderSubmitted', (e) => events.push(`submitted ${e.order.side} ${e.order.quantity} ${e.order.symbol}`));
    rt.bus.on('OrderFilled', (e) => events.push(`filled ${e.fill.side} ${e.fill.quantity} @ ${e.fill.pricePaise}`));
    await feed(rt, clock, ticksFromPrices('INFY', wave.slice(0, 11)));

    expect(events[0]).toBe('submitted BUY 5 INFY');
    expect(events.some((e) => e.startsWith('filled BUY 5'))).toBe(true);
    const view = await rt.askPortfolio();
    const position = view.state.positions['INFY:MIS'];
    expect(position?.netQuantity).toBe(5);
    // exact accounting: cash + market value = equity, P&L = equity − initial
    expect(view.summary.cashPaise + view.summary.marketValuePaise).toBe(view.summary.equityPaise);
    expect(view.summary.netPnlPaise).toBe(view.summary.equityPaise - 10_00_000_00);
    expect(view.summary.chargesPaise).toBeGreaterThan(0);

    await feed(rt, clock, ticksFromPrices('INFY', wave.slice(11), clock.nowMs() + 1000));
    const after = await rt.askPortfolio();
    expect(after.state.positions['INFY:MIS']?.netQuantity).toBe(0);
    const status = await rt.strategyStatus('ema');
    expect(status.positions.INFY).toBe(0);
    expect(status.workingIntents).toBe(0);
    expect(status.stats.fills).toBeGreaterThanOrEqual(2);
  });

  it('refuses an intent that breaks a risk limit, with a RiskAlert, and places nothing', async () => {
    const { runtime: rt, clock } = start({ riskLimits: { maxOrderQuantity: 4 } });
    const alerts: string[] = [];
    let submitted = 0;
    rt.bus.on('RiskAlert', (a) => alerts.push(a.code));
    rt.bus.on('OrderSubmitted', () => (submitted += 1));
    await feed(rt, clock, ticksFromPrices('INFY', wave.slice(0, 11)));
    expect(alerts).toContain('max-order-quantity');
    expect(submitted).toBe(0);
    const status = await rt.strategyStatus('ema');
    expect(status.stats.rejected).toBeGreaterThan(0);
    expect(status.workingIntents).toBe(0);
  });
});

describe('runtime: supervision', () => {
  it('restarts a crashed symbol actor from its snapshot while the others keep receiving ticks', async () => {
    const store = new InMemorySnapshotStore();
    const { runtime: rt, clock } = start({ snapshotEveryMessages: 1, snapshotStore: store });
    const t0 = clock.nowMs();
    await feed(rt, clock, [...ticksFromPrices('INFY', [100_000, 100_100, 100_200], t0), ...ticksFromPrices('TCS', [100_000, 100_100], t0 + 5000)]);
    const before = await askSymbol(rt, 'INFY');
    expect(before.ticks).toBe(3);

    rt.system.injectFault('/market/INFY', 'test: crash the INFY actor');
    // ticks keep flowing to every symbol while INFY restarts
    const more = [...ticksFromPrices('TCS', [100_300, 100_400, 100_500], t0 + 10_000), ...ticksFromPrices('INFY', [100_600], t0 + 20_000)];
    for (const tick of more) {
      clock.advanceTo(tick.exchangeTimeMs);
      rt.offerTicks(tick.symbol, [tick]);
    }
    await eventually(() => {
      const infy = findHealth(rt, '/market/INFY');
      expect(infy?.restarts).toBe(1);
      expect(infy?.status).toBe('running');
    });
    await rt.whenIdle();
    const tcs = await askSymbol(rt, 'TCS');
    expect(tcs.ticks).toBe(5);
    expect(findHealth(rt, '/market/TCS')?.restarts).toBe(0);
    const infy = await askSymbol(rt, 'INFY');
    // state came back from the snapshot (3 ticks), not from zero, and the new tick counted
    expect(infy.ticks).toBe(4);
    expect(infy.lastPricePaise).toBe(100_600);
    expect(findHealth(rt, '/market/INFY')?.lastError?.message).toContain('crash the INFY actor');
  });

  it('a restarted strategy keeps numbering its intents: no client order id is ever reused', async () => {
    const { runtime: rt, clock } = start({ snapshotEveryMessages: 1 });
    const ids: string[] = [];
    rt.bus.on('OrderSubmitted', (e) => ids.push(e.order.clientOrderId));
    await feed(rt, clock, ticksFromPrices('INFY', wave.slice(0, 11)));
    rt.system.injectFault('/strategies/ema', 'test: crash the strategy');
    await eventually(() => expect(findHealth(rt, '/strategies/ema')?.restarts).toBe(1));
    await feed(rt, clock, ticksFromPrices('INFY', wave.slice(11), clock.nowMs() + 1000));
    await feed(rt, clock, ticksFromPrices('INFY', [...wave].reverse(), clock.nowMs() + 1000));
    expect(ids.length).toBeGreaterThanOrEqual(2);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('stops gracefully: intake closes, final snapshots are written', async () => {
    const store = new InMemorySnapshotStore();
    const { runtime: rt, clock } = start({ snapshotStore: store });
    await feed(rt, clock, ticksFromPrices('SBIN', [100_000, 100_500]));
    await rt.stop();
    expect(rt.offerTicks('SBIN', ticksFromPrices('SBIN', [100_000]))).toBe(false);
    const snapshot = await store.load('/market/SBIN');
    expect(snapshot?.state).toMatchObject({ symbol: 'SBIN', ticks: 2, lastPricePaise: 100_500 });
    const portfolio = await store.load('/portfolios/paper');
    expect(portfolio).toBeDefined();
    runtime = undefined;
  });

  it('restores the regime detector and the signal aggregator from their snapshots, like every stateful actor', async () => {
    const store = new InMemorySnapshotStore();
    const { runtime: first, clock } = start({ snapshotStore: store });
    // ema-cross signals its view of INFY to the aggregator as the averages cross
    await feed(first, clock, ticksFromPrices('INFY', wave.slice(0, 11)));
    const before = await first.system.ask<AggregatorCommand, Aggregation>(
      first.aggregator!,
      (replyTo) => ({ type: 'GetDecision', symbol: 'INFY', replyTo }),
      2000,
    );
    expect(before.contributions.map((c) => c.strategyId)).toEqual(['ema']);
    await first.stop();
    runtime = undefined;
    expect(await store.load('/aggregator')).toBeDefined();
    expect(await store.load('/regime')).toBeDefined();

    runtime = new Runtime({
      instruments,
      strategies: [{ strategyId: 'ema', kind: 'ema-cross', config: { fastPeriod: 2, slowPeriod: 4, quantity: 5 } }],
      portfolio: { portfolioId: 'paper', initialCashPaise: 10_00_000_00 },
      clock,
      snapshotStore: store,
    });
    expect(await runtime.restoreFrom(store)).toBe(1 + 1 + 1 + 1 + 1 + 1 + symbols.length); // portfolio, execution, risk, regime, aggregator, strategy, symbols
    runtime.start();
    const after = await runtime.system.ask<AggregatorCommand, Aggregation>(
      runtime.aggregator!,
      (replyTo) => ({ type: 'GetDecision', symbol: 'INFY', replyTo }),
      2000,
    );
    expect(after.contributions).toEqual(before.contributions);
    expect(after.decision).toBe(before.decision);
  });

  it('exposes health for every actor and Prometheus metrics', async () => {
    const { runtime: rt, clock } = start();
    await feed(rt, clock, ticksFromPrices('INFY', wave.slice(0, 11)));
    const paths = flatten(rt.system.health()).map((node) => node.path);
    expect(paths).toEqual(
      expect.arrayContaining(['/market/INFY', '/market/TCS', '/market/SBIN', '/strategies/ema', '/risk', '/execution/paper', '/portfolios/paper']),
    );
    const text = await rt.metrics.text();
    expect(text).toMatch(/troupe_fills_total \d+/);
    expect(text).toMatch(/troupe_actor_restarts\{actor="\/market\/INFY",kind="symbol"\} 0/);
    expect(text).toMatch(/troupe_actor_mailbox_depth\{actor="\/risk",kind="risk"\} 0/);
    const state = rt.portfolio();
    expect(state && summarisePortfolio(state).equityPaise).toBeGreaterThan(0);
  });
});

type Health = ReturnType<Runtime['system']['health']>[number];
function flatten(nodes: readonly Health[], into: Health[] = []): Health[] {
  for (const node of nodes) {
    into.push(node);
    flatten(node.children, into);
  }
  return into;
}
function findHealth(rt: Runtime, path: string): Health | undefined {
  return flatten(rt.system.health()).find((node) => node.path === path);
}
async function askSymbol(rt: Runtime, symbol: string) {
  const ref = rt.directory.symbols.get(symbol)!;
  return rt.system.ask(ref, (replyTo) => ({ type: 'GetStatus' as const, replyTo }), 2000);
}
