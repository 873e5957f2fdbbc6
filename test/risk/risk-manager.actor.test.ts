import { afterEach, describe, expect, it } from 'vitest';
import { createActorSystem, createProbe, type ActorSystem } from '../../src/actors/core/index.js';
import type { ExecutionCommand } from '../../src/actors/execution/execution.protocol.js';
import { riskManagerBehavior } from '../../src/actors/risk/risk-manager.actor.js';
import type { RiskManagerCommand, RiskReport } from '../../src/actors/risk/risk-manager.protocol.js';
import type { RiskCommand, RiskDecision, RiskStatus } from '../../src/actors/risk/risk.protocol.js';
import type { StrategyCommand } from '../../src/actors/strategy/strategy.protocol.js';
import { newOrder, type DomainEvent } from '../../src/model/index.js';
import { DEFAULT_RISK_MANAGER_LIMITS, type RiskManagerLimits } from '../../src/risk/risk-manager.js';
import { Directory } from '../../src/actors/directory.js';
import { EventBus } from '../../src/observability/event-bus.js';
import { MarketCache } from '../../src/actors/market-cache.js';
import { Metrics } from '../../src/observability/metrics.js';
import { instrument, intent, tick } from '../support/builders.js';
import { spawnRisk } from '../support/risk-rig.js';

const t0 = Date.parse('2026-05-20T04:00:00Z');

describe('risk manager actor', () => {
  let system: ActorSystem;
  afterEach(async () => {
    await system.shutdown();
  });

  /** A risk actor on a fixed clock with probes for execution and strategy s1; `known` says which symbols are instruments. */
  function rig(limits: RiskManagerLimits, known: (symbol: string) => boolean) {
    system = createActorSystem();
    return spawnRisk(system, { limits, nowMs: t0, instrument: (symbol) => (known(symbol) ? instrument(symbol) : undefined) });
  }

  it('approves, refuses, trips the kill switch (pause + cancel open orders) and re-arms', async () => {
    system = createActorSystem();
    const directory = new Directory();
    const cache = new MarketCache();
    const bus = new EventBus();
    const events: DomainEvent[] = [];
    bus.onAny((e) => events.push(e));
    const execution = createProbe<ExecutionCommand>(system);
    const strategy = createProbe<StrategyCommand>(system);
    directory.execution = execution.ref;
    directory.strategies.set('s1', strategy.ref);
    const now = t0;
    const ref = system.spawn(
      'risk',
      riskManagerBehavior({
        directory,
        cache,
        bus,
        metrics: new Metrics(),
        clock: { nowMs: () => now },
        limits: { ...DEFAULT_RISK_MANAGER_LIMITS, maxDailyLossPaise: 1_000_00 },
        instrument: (symbol) => (symbol === 'INFY' ? instrument() : undefined),
      }),
    );
    // the ref fits where the minimal gate's did
    directory.risk = ref;
    const asGate: typeof directory.risk = ref;
    cache.update(tick({ ltpPaise: 150_000 }));
    const replies = createProbe<RiskDecision>(system);

    system.tell(asGate, { type: 'EvaluateIntent', intent: intent({ quantity: 10 }), clientOrderId: 'C1', replyTo: replies.ref });
    expect(await replies.expectMessage()).toEqual({ approved: true, clientOrderId: 'C1' });
    expect(await execution.expectMessage()).toMatchObject({ type: 'PlaceOrder', order: { clientOrderId: 'C1', quantity: 10 } });

    system.tell(asGate, { type: 'EvaluateIntent', intent: intent({ quantity: 7, symbol: 'NOPE' }), clientOrderId: 'C2', replyTo: replies.ref });
    expect(await replies.expectMessage()).toMatchObject({ approved: false, rejection: { code: 'unknown-instrument' } });
    expect(await strategy.expectMessage()).toMatchObject({ type: 'OrderEvent', event: { type: 'IntentRejected', reason: 'NOPE is not a known instrument' } });

    const command: RiskManagerCommand = { type: 'FillApplied', portfolioId: 'p1', symbol: 'INFY', signedQuantity: 10, pricePaise: 150_000, chargesPaise: 0 };
    system.tell(ref, command);
    cache.update(tick({ ltpPaise: 139_000 })); // the symbol actor writes the cache, then offers the mark
    system.tell(ref, { type: 'Marks', ticks: [tick({ ltpPaise: 139_000 })] }); // −₹1,100
    expect(await strategy.expectMessage()).toEqual({ type: 'Pause' });
    const ask = await execution.expectMessage();
    if (ask.type !== 'GetOrders') throw new Error(`expected GetOrders, got ${ask.type}`);
    const open = { ...newOrder(intent({ quantity: 5 }), 'C3', t0), status: 'OPEN' as const };
    const done = { ...newOrder(intent({ quantity: 5 }), 'C4', t0), status: 'COMPLETE' as const };
    system.tell(ask.replyTo, [open, done]);
    expect(await execution.expectMessage()).toEqual({ type: 'CancelOrder', clientOrderId: 'C3', requestedBy: 'risk:kill-switch' });
    await execution.expectNoMessage();
    expect(events.find((e) => e.type === 'RiskAlert' && e.code === 'kill-switch')).toMatchObject({ severity: 'critical' });

    system.tell(asGate, { type: 'EvaluateIntent', intent: intent({ side: 'SELL', quantity: 10 }), clientOrderId: 'C5', replyTo: replies.ref });
    expect(await replies.expectMessage()).toMatchObject({ approved: false, rejection: { code: 'kill-switch' } });

    const report = createProbe<RiskReport>(system);
    system.tell(ref, { type: 'GetRiskReport', replyTo: report.ref });
    expect(await report.expectMessage()).toMatchObject({
      approved: 1,
      rejected: 2,
      killSwitch: { portfolioId: 'p1', dayPnlPaise: -1_100_00 },
      portfolios: { p1: { dayPnlPaise: -1_100_00 } },
    });

    const armed = createProbe<boolean>(system);
    system.tell(ref, { type: 'ResetKillSwitch', requestedBy: 'alice', replyTo: armed.ref });
    expect(await armed.expectMessage()).toBe(true);
    system.tell(ref, { type: 'StartDay' });
    system.tell(asGate, { type: 'EvaluateIntent', intent: intent({ side: 'SELL', quantity: 10 }), clientOrderId: 'C6', replyTo: replies.ref });
    expect(await replies.expectMessage()).toEqual({ approved: true, clientOrderId: 'C6' });
    const status = createProbe<RiskStatus>(system);
    const command2: RiskCommand = { type: 'GetStatus', replyTo: status.ref };
    system.tell(asGate, command2);
    expect(await status.expectMessage()).toEqual({ approved: 2, rejected: 2, exposures: { 'p1:INFY': { net: 10, working: -10 } } });
  });

  it("applies a batch of broker outcomes (the execution actor's Outcomes) in order: fills move position and P&L, closes release what was reserved", async () => {
    const { ref, cache, execution } = rig(DEFAULT_RISK_MANAGER_LIMITS, (symbol) => symbol === 'INFY');
    cache.update(tick({ ltpPaise: 150_000 }));
    system.tell(ref, { type: 'EvaluateIntent', intent: intent({ intentId: 's1:1', quantity: 10 }), clientOrderId: 'C1' });
    system.tell(ref, { type: 'EvaluateIntent', intent: intent({ intentId: 's1:2', quantity: 5 }), clientOrderId: 'C2' });
    system.tell(ref, { type: 'EvaluateIntent', intent: intent({ intentId: 's1:3', side: 'SELL', quantity: 4 }), clientOrderId: 'C3' });
    for (const id of ['C1', 'C2', 'C3']) expect(await execution.expectMessage()).toMatchObject({ type: 'PlaceOrder', order: { clientOrderId: id } });
    const status = createProbe<RiskStatus>(system);
    system.tell(ref, { type: 'GetStatus', replyTo: status.ref });
    expect((await status.expectMessage()).exposures).toEqual({ 'p1:INFY': { net: 0, working: 11 } });

    // C1 fills 6 then 4 (complete), C2 is cancelled unfilled, C3 fills 4 (complete): one report
    system.tell(ref, {
      type: 'Outcomes',
      outcomes: [
        { type: 'FillApplied', portfolioId: 'p1', symbol: 'INFY', signedQuantity: 6, pricePaise: 150_000, chargesPaise: 30 },
        { type: 'FillApplied', portfolioId: 'p1', symbol: 'INFY', signedQuantity: 4, pricePaise: 150_100, chargesPaise: 20 },
        { type: 'OrderClosed', portfolioId: 'p1', symbol: 'INFY', signedRemainder: 0 },
        { type: 'OrderClosed', portfolioId: 'p1', symbol: 'INFY', signedRemainder: 5 },
        { type: 'FillApplied', portfolioId: 'p1', symbol: 'INFY', signedQuantity: -4, pricePaise: 150_500, chargesPaise: 25 },
        { type: 'OrderClosed', portfolioId: 'p1', symbol: 'INFY', signedRemainder: 0 },
      ],
    });
    system.tell(ref, { type: 'GetStatus', replyTo: status.ref });
    // net 6 − 4 + 4 = 6 long; nothing left working (10 + 5 − 4 reserved; 10 − 4 filled, 5 released)
    expect((await status.expectMessage()).exposures).toEqual({ 'p1:INFY': { net: 6, working: 0 } });
    const report = createProbe<RiskReport>(system);
    system.tell(ref, { type: 'GetRiskReport', replyTo: report.ref });
    // the day's P&L by hand: cash −6×1,500.00 −4×1,501.00 +4×1,505.00 − charges (0.30 + 0.20 + 0.25), plus 6 held at the last price 1,500.00
    const cashPaise = -6 * 150_000 - 4 * 150_100 + 4 * 150_500 - (30 + 20 + 25);
    expect((await report.expectMessage()).portfolios['p1']).toMatchObject({ dayPnlPaise: cashPaise + 6 * 150_000 });
  });

  it("evaluates a strategy's batch of intents in order: refusals to the strategy, the approved orders to execution in one PlaceOrders", async () => {
    const known = new Set(['INFY', 'TCS', 'SBIN']);
    const { ref, cache, execution, strategy } = rig(DEFAULT_RISK_MANAGER_LIMITS, (symbol) => known.has(symbol));
    for (const symbol of known) cache.update(tick({ symbol, ltpPaise: 150_000 }));
    system.tell(ref, {
      type: 'EvaluateIntents',
      intents: [
        { intent: intent({ intentId: 's1:1', symbol: 'INFY', quantity: 10, triggerReceivedMonoMs: 12.5 }), clientOrderId: 'C1' },
        { intent: intent({ intentId: 's1:2', symbol: 'NOPE', quantity: 5 }), clientOrderId: 'C2' },
        { intent: intent({ intentId: 's1:3', symbol: 'TCS', side: 'SELL', quantity: 4 }), clientOrderId: 'C3' },
        { intent: intent({ intentId: 's1:4', symbol: 'SBIN', quantity: 2 }), clientOrderId: 'C4' },
      ],
    });
    const placed = await execution.expectMessage();
    if (placed.type !== 'PlaceOrders') throw new Error(`expected PlaceOrders, got ${placed.type}`);
    expect(placed.orders.map(({ order }) => [order.clientOrderId, order.symbol, order.side, order.quantity])).toEqual([
      ['C1', 'INFY', 'BUY', 10],
      ['C3', 'TCS', 'SELL', 4],
      ['C4', 'SBIN', 'BUY', 2],
    ]);
    // the tick's receive time travels with the order it caused (tick-to-order latency); the others had none
    expect(placed.orders.map((item) => item.triggerReceivedMonoMs)).toEqual([12.5, undefined, undefined]);
    await execution.expectNoMessage();
    expect(await strategy.expectMessage()).toMatchObject({
      type: 'OrderEvent',
      event: { type: 'IntentRejected', intentId: 's1:2', code: 'unknown-instrument' },
    });
    await strategy.expectNoMessage();

    // one intent alone is one PlaceOrder, as before
    system.tell(ref, { type: 'EvaluateIntents', intents: [{ intent: intent({ intentId: 's1:5', quantity: 1 }), clientOrderId: 'C5' }] });
    expect(await execution.expectMessage()).toMatchObject({ type: 'PlaceOrder', order: { clientOrderId: 'C5', quantity: 1 } });
    const status = createProbe<RiskStatus>(system);
    system.tell(ref, { type: 'GetStatus', replyTo: status.ref });
    expect(await status.expectMessage()).toMatchObject({ approved: 4, rejected: 1 });
  });

  it('a kill switch that trips inside a batch: what was approved before it reaches execution before the kill switch asks for the open orders', async () => {
    const { ref, cache, execution, strategy } = rig({ ...DEFAULT_RISK_MANAGER_LIMITS, maxDailyLossPaise: 1_000_00 }, () => true);
    // 10 INFY held at ₹1,500; the cache already has INFY at ₹1,390 (−₹1,100), TCS at ₹1,500
    system.tell(ref, { type: 'FillApplied', portfolioId: 'p1', symbol: 'INFY', signedQuantity: 10, pricePaise: 150_000, chargesPaise: 0 });
    cache.update(tick({ symbol: 'TCS', ltpPaise: 150_000 }));
    cache.update(tick({ symbol: 'INFY', ltpPaise: 139_000 }));
    system.tell(ref, {
      type: 'EvaluateIntents',
      intents: [
        { intent: intent({ intentId: 's1:1', symbol: 'TCS', quantity: 3 }), clientOrderId: 'C1' }, // approved (TCS's mark moves nothing)
        { intent: intent({ intentId: 's1:2', symbol: 'INFY', quantity: 2 }), clientOrderId: 'C2' }, // INFY's mark trips the kill switch
        { intent: intent({ intentId: 's1:3', symbol: 'TCS', quantity: 1 }), clientOrderId: 'C3' }, // refused: halted
      ],
    });
    expect(await execution.expectMessage()).toMatchObject({ type: 'PlaceOrder', order: { clientOrderId: 'C1' } });
    const ask = await execution.expectMessage();
    if (ask.type !== 'GetOrders') throw new Error(`expected GetOrders, got ${ask.type}`);
    await execution.expectNoMessage();
    const told = [await strategy.expectMessage(), await strategy.expectMessage(), await strategy.expectMessage()];
    expect(told).toMatchObject([
      { type: 'Pause' },
      { type: 'OrderEvent', event: { type: 'IntentRejected', intentId: 's1:2', code: 'kill-switch' } },
      { type: 'OrderEvent', event: { type: 'IntentRejected', intentId: 's1:3', code: 'kill-switch' } },
    ]);
  });

  /** A risk actor with probes for execution and two strategies, on a clock the test moves. */
  function pacingRig(limits: Partial<RiskManagerLimits>, maxPacedEntryWaitMs?: number) {
    system = createActorSystem();
    const directory = new Directory();
    const cache = new MarketCache();
    const bus = new EventBus();
    const alerts: DomainEvent[] = [];
    bus.on('RiskAlert', (e) => alerts.push(e));
    const execution = createProbe<ExecutionCommand>(system);
    const s1 = createProbe<StrategyCommand>(system);
    const s2 = createProbe<StrategyCommand>(system);
    directory.execution = execution.ref;
    directory.strategies.set('s1', s1.ref);
    directory.strategies.set('s2', s2.ref);
    const metrics = new Metrics();
    const clock = { now: t0 };
    const ref = system.spawn(
      'risk',
      riskManagerBehavior({
        directory,
        cache,
        bus,
        metrics,
        clock: { nowMs: () => clock.now },
        limits: { ...DEFAULT_RISK_MANAGER_LIMITS, ...limits },
        ...(maxPacedEntryWaitMs === undefined ? {} : { maxPacedEntryWaitMs }),
      }),
    );
    for (const symbol of ['INFY', 'TCS', 'SBIN', 'ITC', 'HDFCBANK', 'RELIANCE', 'WIPRO']) cache.update(tick({ symbol, ltpPaise: 100_000 }));
    const send = (id: string, symbol: string, side: 'BUY' | 'SELL', strategyId = 's1'): void =>
      system.tell(ref, {
        type: 'EvaluateIntent',
        intent: intent({ intentId: `${strategyId}:${id}`, strategyId, symbol, side, quantity: 10 }),
        clientOrderId: id,
      });
    /** The next messages of a probe, all there are now (after the actor went idle). */
    const drain = async <T>(probe: { expectMessage(): Promise<T>; expectNoMessage(): Promise<void> }, count: number): Promise<T[]> => {
      const out: T[] = [];
      for (let i = 0; i < count; i += 1) out.push(await probe.expectMessage());
      await probe.expectNoMessage();
      return out;
    };
    const placed = async (count: number): Promise<string[]> =>
      (await drain(execution, count)).map((m) => (m.type === 'PlaceOrder' ? m.order.clientOrderId : `unexpected ${m.type}`));
    return { ref, clock, metrics, alerts, s1, s2, send, drain, placed };
  }

  it('queues intents refused only for pacing and sends them when the windows allow: exits first, then entries in arrival order', async () => {
    const rig = pacingRig({ maxOrdersPerSecond: 3, maxOrdersPerSecondPerStrategy: 2 });
    // the portfolio holds INFY, TCS and SBIN: selling them is an exit
    for (const symbol of ['INFY', 'TCS', 'SBIN'])
      system.tell(rig.ref, { type: 'FillApplied', portfolioId: 'p1', symbol, signedQuantity: 10, pricePaise: 100_000, chargesPaise: 0 });
    rig.send('E1', 'ITC', 'BUY'); // s1: approved
    rig.send('E2', 'HDFCBANK', 'BUY'); // s1: approved, its window is full
    rig.send('Y1', 'WIPRO', 'BUY', 's2'); // s2: approved, the overall window is full
    rig.send('E3', 'RELIANCE', 'BUY'); // s1 entry: queued
    rig.send('X1', 'INFY', 'SELL'); // s1 exits: queued
    rig.send('X2', 'TCS', 'SELL');
    rig.send('Y2', 'WIPRO', 'BUY', 's2'); // s2 entry: queued (overall)
    expect(await rig.placed(3)).toEqual(['E1', 'E2', 'Y1']);
    const paced1 = await rig.drain(rig.s1, 3);
    expect(paced1.map((m) => m.type)).toEqual(['IntentPaced', 'IntentPaced', 'IntentPaced']);
    expect(paced1.map((m) => (m.type === 'IntentPaced' ? m.intentId : ''))).toEqual(['s1:E3', 's1:X1', 's1:X2']);
    expect(paced1[1]).toMatchObject({ symbol: 'INFY', atMs: t0, reason: expect.stringContaining('queued as an exit') as string });
    expect(await rig.drain(rig.s2, 1)).toMatchObject([
      { type: 'IntentPaced', intentId: 's2:Y2', reason: expect.stringContaining('queued as an entry') as string },
    ]);
    expect(rig.alerts).toEqual([]); // a queued intent is not a refusal

    // the same millisecond: nothing is released
    system.tell(rig.ref, { type: 'Marks', ticks: [tick({ ltpPaise: 100_000 })] });
    await rig.drain(rig.s1, 0);

    // one second on, the next mark releases: s1's exits (its window: 2), then s2's entry; s1's entry waits
    rig.clock.now = t0 + 1_000;
    system.tell(rig.ref, { type: 'Marks', ticks: [tick({ ltpPaise: 100_000 })] });
    expect(await rig.placed(3)).toEqual(['X1', 'X2', 'Y2']);
    expect(await rig.drain(rig.s1, 2)).toEqual([
      { type: 'IntentReleased', intentId: 's1:X1', atMs: t0 + 1_000 },
      { type: 'IntentReleased', intentId: 's1:X2', atMs: t0 + 1_000 },
    ]);
    expect(await rig.drain(rig.s2, 1)).toEqual([{ type: 'IntentReleased', intentId: 's2:Y2', atMs: t0 + 1_000 }]);

    rig.clock.now = t0 + 2_000;
    system.tell(rig.ref, { type: 'OrderClosed', portfolioId: 'p1', symbol: 'ITC', signedRemainder: 0 }); // any message after the window reopens
    expect(await rig.placed(1)).toEqual(['E3']);
    expect(await rig.drain(rig.s1, 1)).toEqual([{ type: 'IntentReleased', intentId: 's1:E3', atMs: t0 + 2_000 }]);
    expect(rig.alerts).toEqual([]);

    const metrics = await rig.metrics.registry.metrics();
    expect(metrics).toMatch(/troupe_risk_paced_intents_total\{kind="exit"\} 2/);
    expect(metrics).toMatch(/troupe_risk_paced_intents_total\{kind="entry"\} 2/);
    expect(metrics).toMatch(/troupe_risk_paced_released_total 4/);
    expect(metrics).toMatch(/troupe_risk_paced_queue_depth 0/);
    const report = createProbe<RiskReport>(system);
    system.tell(rig.ref, { type: 'GetRiskReport', replyTo: report.ref });
    expect(await report.expectMessage()).toMatchObject({ approved: 7, rejected: 0, paced: [] });
  });

  it('drops a queued entry that went stale, visibly; refuses a manual order at once; other refusals stay refusals', async () => {
    const rig = pacingRig({ maxOrdersPerSecond: 10, maxOrdersPerSecondPerStrategy: 1, maxPositionQuantity: 15 }, 500);
    rig.send('E1', 'ITC', 'BUY');
    rig.send('E2', 'TCS', 'BUY'); // queued
    expect(await rig.placed(1)).toEqual(['E1']);
    expect(await rig.drain(rig.s1, 1)).toMatchObject([{ type: 'IntentPaced', intentId: 's1:E2' }]);
    const report = createProbe<RiskReport>(system);
    system.tell(rig.ref, { type: 'GetRiskReport', replyTo: report.ref });
    expect(await report.expectMessage()).toMatchObject({
      paced: [{ intentId: 's1:E2', strategyId: 's1', symbol: 'TCS', side: 'BUY', quantity: 10, exit: false, queuedAtMs: t0 }],
    });

    // a manual order (someone waits for the answer) is refused at once, not queued
    const replies = createProbe<RiskDecision>(system);
    system.tell(rig.ref, { type: 'EvaluateIntent', intent: intent({ intentId: 's1:M1', quantity: 1 }), clientOrderId: 'M1', replyTo: replies.ref });
    expect(await replies.expectMessage()).toMatchObject({ approved: false, rejection: { code: 'max-orders-per-second-strategy' } });
    expect(await rig.drain(rig.s1, 1)).toMatchObject([
      { type: 'OrderEvent', event: { type: 'IntentRejected', intentId: 's1:M1', code: 'max-orders-per-second-strategy' } },
    ]);

    rig.clock.now = t0 + 1_000; // waited 1 s > 0.5 s
    system.tell(rig.ref, { type: 'Marks', ticks: [tick({ ltpPaise: 100_000 })] });
    expect(await rig.drain(rig.s1, 1)).toMatchObject([
      {
        type: 'OrderEvent',
        event: {
          type: 'IntentRejected',
          intentId: 's1:E2',
          symbol: 'TCS',
          code: 'pacing-expired',
          reason: expect.stringContaining('dropped as stale') as string,
        },
      },
    ]);
    await rig.placed(0);
    expect(rig.alerts.map((a) => (a.type === 'RiskAlert' ? `${a.code}:${a.severity}` : a.type))).toEqual([
      'max-orders-per-second-strategy:warning',
      'pacing-expired:warning',
    ]);
    expect(await rig.metrics.registry.metrics()).toMatch(/troupe_risk_paced_expired_total 1/);
  });

  it("a queued intent that another check refuses when released is refused with that check's code", async () => {
    const rig = pacingRig({ maxOrdersPerSecond: 10, maxOrdersPerSecondPerStrategy: 1, maxPositionQuantity: 15 });
    rig.send('E3', 'SBIN', 'BUY'); // approved
    rig.send('E4', 'TCS', 'BUY'); // within the position limit (10 of 15): queued
    expect(await rig.placed(1)).toEqual(['E3']);
    expect(await rig.drain(rig.s1, 1)).toMatchObject([{ type: 'IntentPaced', intentId: 's1:E4' }]);
    system.tell(rig.ref, { type: 'FillApplied', portfolioId: 'p1', symbol: 'TCS', signedQuantity: 10, pricePaise: 100_000, chargesPaise: 0 });
    rig.clock.now = t0 + 1_000;
    system.tell(rig.ref, { type: 'Marks', ticks: [tick({ ltpPaise: 100_000 })] });
    expect(await rig.drain(rig.s1, 1)).toMatchObject([{ type: 'OrderEvent', event: { type: 'IntentRejected', intentId: 's1:E4', code: 'max-position' } }]);
    await rig.placed(0);
    expect(rig.alerts.map((a) => (a.type === 'RiskAlert' ? a.code : a.type))).toEqual(['max-position']);
  });
});
