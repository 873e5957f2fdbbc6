import { afterEach, describe, expect, it } from 'vitest';
import { createActorSystem, createProbe, type ActorSystem } from '../../../src/actors/core/index.js';
import { aggregatorBehavior } from '../../../src/actors/aggregator/aggregator.actor.js';
import type { DomainEvent, SignalAggregated } from '../../../src/model/index.js';
import type { Aggregation, Signal } from '../../../src/signals/index.js';
import { bar } from '../../support/builders.js';

const now = Date.parse('2026-05-20T05:00:00Z');
const signal = (strategyId: string, direction: Signal['direction'], confidence: number): Signal => ({
  strategyId,
  symbol: 'INFY',
  direction,
  confidence,
  atMs: now,
});

describe('aggregator actor', () => {
  let system: ActorSystem;
  afterEach(async () => {
    await system.shutdown();
  });

  it('votes on every signal, publishes changed decisions, answers GetDecision', async () => {
    system = createActorSystem();
    const events: DomainEvent[] = [];
    const ref = system.spawn(
      'aggregator',
      aggregatorBehavior({
        bus: { publish: (e) => events.push(e) },
        clock: { nowMs: () => now },
        config: { weights: { trend: 2 }, defaultWeight: 1, threshold: 0.3, minSignals: 1, tieRule: 'flat', maxAgeMs: 60_000 },
      }),
    );
    system.tell(ref, { type: 'SubmitSignals', signals: [signal('trend', 'long', 0.9)] });
    system.tell(ref, { type: 'SubmitSignals', signals: [signal('rsi', 'short', 0.2)] });
    system.tell(ref, { type: 'SubmitSignals', signals: [signal('rsi', 'short', 1)] });
    const probe = createProbe<Aggregation>(system);
    system.tell(ref, { type: 'GetDecision', symbol: 'INFY', replyTo: probe.ref });
    const decision = await probe.expectMessage();
    // (2·0.9 − 1) / 3 = 0.266…: inside the threshold
    expect(decision).toMatchObject({ decision: 'FLAT', score: 0.266667 });
    const published = events.filter((e): e is SignalAggregated => e.type === 'SignalAggregated');
    expect(published.map((e) => e.decision)).toEqual(['BUY', 'FLAT']);
    expect(published[0]!.summary).toContain('trend long 0.90×w2');
    system.tell(ref, { type: 'GetDecision', symbol: 'TCS', replyTo: probe.ref });
    expect(await probe.expectMessage()).toMatchObject({ symbol: 'TCS', decision: 'FLAT', contributions: [] });
  });

  it('votes on each signal of a batch in order, as if each had come alone', async () => {
    system = createActorSystem();
    const events: DomainEvent[] = [];
    const delivered: Aggregation[] = [];
    const ref = system.spawn(
      'aggregator',
      aggregatorBehavior({
        bus: { publish: (e) => events.push(e) },
        clock: { nowMs: () => now },
        config: { weights: { trend: 2 }, defaultWeight: 1, threshold: 0.3, minSignals: 1, tieRule: 'flat', maxAgeMs: 60_000 },
        deliver: (a) => delivered.push(a),
      }),
    );
    system.tell(ref, {
      type: 'SubmitSignals',
      signals: [signal('trend', 'long', 0.9), signal('rsi', 'short', 0.2), { ...signal('trend', 'long', 1), symbol: 'TCS' }, signal('rsi', 'short', 1)],
    });
    const probe = createProbe<Aggregation>(system);
    system.tell(ref, { type: 'GetDecision', symbol: 'INFY', replyTo: probe.ref });
    expect(await probe.expectMessage()).toMatchObject({ decision: 'FLAT', score: 0.266667 });
    expect(delivered.map((a) => [a.symbol, a.decision])).toEqual([
      ['INFY', 'BUY'],
      ['INFY', 'BUY'],
      ['TCS', 'BUY'],
      ['INFY', 'FLAT'],
    ]);
    expect(events.filter((e): e is SignalAggregated => e.type === 'SignalAggregated').map((e) => `${e.symbol} ${e.decision}`)).toEqual([
      'INFY BUY',
      'TCS BUY',
      'INFY FLAT',
    ]);
  });

  it('votes again on closed bars (decay and expiry act in market time) and delivers every vote', async () => {
    system = createActorSystem();
    let clock = now;
    const events: DomainEvent[] = [];
    const delivered: Aggregation[] = [];
    const ref = system.spawn(
      'aggregator',
      aggregatorBehavior({
        bus: { publish: (e) => events.push(e) },
        clock: { nowMs: () => clock },
        config: { maxAgeMs: 10 * 60_000, halfLifeMs: 5 * 60_000 },
        deliver: (a) => delivered.push(a),
      }),
    );
    const probe = createProbe<Aggregation>(system);
    const settled = async (): Promise<void> => {
      system.tell(ref, { type: 'GetDecision', symbol: 'INFY', replyTo: probe.ref });
      await probe.expectMessage();
    };
    system.tell(ref, { type: 'SubmitSignals', signals: [signal('trend', 'long', 1)] });
    await settled();
    clock = now + 5 * 60_000;
    system.tell(ref, { type: 'BarsClosed', bars: [bar({ symbol: 'INFY', interval: '5m' }), bar({ symbol: 'TCS', interval: '5m' })] }); // TCS: no signals, no vote
    await settled();
    clock = now + 11 * 60_000;
    system.tell(ref, { type: 'BarsClosed', bars: [bar({ symbol: 'INFY', interval: '5m' })] });
    await settled();
    expect(delivered.map((a) => [a.symbol, a.decision, a.score])).toEqual([
      ['INFY', 'BUY', 1],
      ['INFY', 'BUY', 0.5], // one half-life later
      ['INFY', 'FLAT', 0], // expired
    ]);
    expect(events.filter((e): e is SignalAggregated => e.type === 'SignalAggregated').map((e) => e.decision)).toEqual(['BUY', 'FLAT']);
  });
});
