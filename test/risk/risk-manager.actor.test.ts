import { afterEach, describe, expect, it } from 'vitest';
import { createActorSystem, createProbe, type ActorSystem } from '../../src/actors/core/index.js';
import type { ExecutionCommand } from '../../src/actors/execution/execution.protocol.js';
import { riskManagerBehavior } from '../../src/actors/risk/risk-manager.actor.js';
import type { RiskManagerCommand, RiskReport } from '../../src/actors/risk/risk-manager.protocol.js';
import type { RiskCommand, RiskDecision, RiskStatus } from '../../src/actors/risk/risk.protocol.js';
import type { StrategyCommand } from '../../src/actors/strategy/strategy.protocol.js';
import { newOrder, type DomainEvent } from '../../src/model/index.js';
import { DEFAULT_RISK_MANAGER_LIMITS } from '../../src/risk/risk-manager.js';
import { Directory } from '../../src/runtime/directory.js';
import { EventBus } from '../../src/runtime/event-bus.js';
import { MarketCache } from '../../src/runtime/market-cache.js';
import { Metrics } from '../../src/runtime/metrics.js';
import { instrument, intent, tick } from '../support/builders.js';

const t0 = Date.parse('2026-05-20T04:00:00Z');

describe('risk manager actor', () => {
  let system: ActorSystem;
  afterEach(async () => {
    await system.shutdown();
  });

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
    expect(await report.expectMessage()).toMatchObject({ approved: 1, rejected: 2, killSwitch: { portfolioId: 'p1', dayPnlPaise: -1_100_00 }, portfolios: { p1: { dayPnlPaise: -1_100_00 } } });

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
});
