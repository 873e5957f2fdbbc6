import { afterEach, describe, expect, it } from 'vitest';
import { createActorSystem, createProbe, type ActorSystem } from '../../../src/actors/core/index.js';
import { regimeBehavior } from '../../../src/actors/regime/regime.actor.js';
import type { RegimeReport } from '../../../src/actors/regime/regime.protocol.js';
import type { Bar, DomainEvent, RegimeChanged } from '../../../src/model/index.js';
import { createRandom } from '../../../src/streams/random.js';

const t0 = Date.parse('2026-05-20T03:45:00Z');

function trendBars(symbol: string, count: number, driftFraction: number, seed: number, interval: Bar['interval'] = '5m'): Bar[] {
  const random = createRandom(seed);
  let close = 100_000;
  return Array.from({ length: count }, (_, i) => {
    const open = close;
    close = Math.round(close * (1 + driftFraction + 0.001 * random.normal()));
    return {
      type: 'bar',
      symbol,
      interval,
      startMs: t0 + i * 300_000,
      openPaise: open,
      highPaise: Math.max(open, close) + 20,
      lowPaise: Math.min(open, close) - 20,
      closePaise: close,
      volume: 100,
      tickCount: 0,
    };
  });
}

describe('regime actor', () => {
  let system: ActorSystem;
  afterEach(async () => {
    await system.shutdown();
  });

  it('publishes RegimeChanged per symbol and for the market, and reports current regimes', async () => {
    system = createActorSystem();
    const events: DomainEvent[] = [];
    const ref = system.spawn('regime', regimeBehavior({ bus: { publish: (e) => events.push(e) }, interval: '5m' }));
    const bars = trendBars('INFY', 200, 0.002, 3);
    for (let i = 0; i < bars.length; i += 50) system.tell(ref, { type: 'BarsClosed', bars: bars.slice(i, i + 50) });
    system.tell(ref, { type: 'BarsClosed', bars: trendBars('TCS', 200, 0.002, 4, '1m') }); // other interval: ignored
    const probe = createProbe<RegimeReport>(system);
    system.tell(ref, { type: 'GetRegimes', replyTo: probe.ref });
    const report = await probe.expectMessage();
    expect(report).toEqual({ symbols: { INFY: 'trending' }, market: 'trending' });
    const changes = events.filter((e): e is RegimeChanged => e.type === 'RegimeChanged');
    expect(changes[0]).toMatchObject({ symbol: 'INFY', from: null });
    expect(changes.some((e) => e.symbol === 'MARKET' && e.to === 'trending')).toBe(true);
    expect(changes.at(-1)).toMatchObject({ to: 'trending' });
    expect(Object.keys(changes[0]!.evidence).sort()).toEqual(['adx', 'efficiencyRatio', 'volatility', 'volatilityPercentile', 'volatilityRatio']);
  });

  it('comes back warm from its snapshot', async () => {
    system = createActorSystem();
    const events: DomainEvent[] = [];
    const bus = { publish: (e: DomainEvent) => events.push(e) };
    const first = system.spawn('regime', regimeBehavior({ bus }));
    system.tell(first, { type: 'BarsClosed', bars: trendBars('INFY', 150, 0.002, 3) });
    await system.stop(first);
    const snapshot = system.lastSnapshot('/regime');
    expect(snapshot).toBeDefined();
    const before = events.length;
    const second = system.spawn('regime', regimeBehavior({ bus }), { initialSnapshot: snapshot! });
    const probe = createProbe<RegimeReport>(system);
    system.tell(second, { type: 'GetRegimes', replyTo: probe.ref });
    expect(await probe.expectMessage()).toEqual({ symbols: { INFY: 'trending' }, market: 'trending' });
    // one more bar of the same trend: no re-announcement, the detector was warm
    system.tell(second, { type: 'BarsClosed', bars: trendBars('INFY', 151, 0.002, 3).slice(150) });
    system.tell(second, { type: 'GetRegimes', replyTo: probe.ref });
    await probe.expectMessage();
    expect(events.length).toBe(before);
  });
});
