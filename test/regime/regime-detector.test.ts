import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Bar, Regime } from '../../src/model/index.js';
import { classify, DEFAULT_REGIME_CONFIG, detectRegimes, initialRegimeState, updateMarketRegime, updateRegime } from '../../src/regime/index.js';
import { createRandom } from '../../src/streams/random.js';
import { readDataFolder, type DataFolder } from '../../src/streams/sources/csv-replay.js';

const t0 = Date.parse('2026-05-20T03:45:00Z');

/** Bars from a list of closes: open = previous close, high/low a little outside. */
function barsFromCloses(closes: readonly number[], spreadFraction = 0.0005): Bar[] {
  return closes.map((close, i) => {
    const open = i === 0 ? close : closes[i - 1]!;
    const top = Math.max(open, close);
    const bottom = Math.min(open, close);
    return {
      type: 'bar',
      symbol: 'SYN',
      interval: '5m',
      startMs: t0 + i * 300_000,
      openPaise: Math.round(open),
      highPaise: Math.round(top * (1 + spreadFraction)),
      lowPaise: Math.round(bottom * (1 - spreadFraction)),
      closePaise: Math.round(close),
      volume: 1_000,
      tickCount: 0,
    };
  });
}

function path_(count: number, step: (i: number, previous: number, normal: () => number) => number, seed = 7): number[] {
  const random = createRandom(seed);
  const closes = [100_000];
  for (let i = 1; i < count; i += 1) closes.push(step(i, closes[i - 1]!, () => random.normal()));
  return closes;
}

const share = (regimes: readonly (Regime | null)[], from: number, regime: Regime): number => {
  const tail = regimes.slice(from);
  return tail.filter((r) => r === regime).length / tail.length;
};

describe('regime detector on synthetic paths', () => {
  it('a clean trend is trending', () => {
    const bars = barsFromCloses(path_(400, (_i, p, normal) => p * (1 + 0.002 + 0.001 * normal())));
    const { regimes, changes } = detectRegimes(bars);
    expect(share(regimes, 100, 'trending')).toBeGreaterThan(0.9);
    expect(changes.length).toBeLessThanOrEqual(3);
  });

  it('a sine is ranging', () => {
    const bars = barsFromCloses(path_(400, (i, _p, normal) => 100_000 * (1 + 0.02 * Math.sin((2 * Math.PI * i) / 16)) * (1 + 0.0005 * normal())));
    const { regimes } = detectRegimes(bars);
    expect(share(regimes, 100, 'ranging')).toBeGreaterThan(0.9);
  });

  it('a volatility burst is high-volatility, and the calm after it is not', () => {
    const closes = path_(500, (i, p, normal) => p * (1 + (i >= 300 && i < 340 ? 0.008 : 0.001) * normal()));
    const { regimes, changes } = detectRegimes(barsFromCloses(closes));
    expect(share(regimes.slice(0, 300), 100, 'high-volatility')).toBe(0);
    expect(regimes.slice(305, 340).every((r) => r === 'high-volatility')).toBe(true);
    expect(share(regimes, 420, 'high-volatility')).toBe(0);
    const into = changes.find((c) => c.to === 'high-volatility');
    expect(into?.index).toBeGreaterThanOrEqual(300);
    expect(into?.index).toBeLessThan(306);
  });

  it('says nothing before it is warm, then announces the first regime with from = null', () => {
    let state = initialRegimeState();
    const bars = barsFromCloses(path_(120, (_i, p, normal) => p * (1 + 0.001 * normal())));
    const steps = bars.map((bar) => {
      const step = updateRegime(state, bar);
      state = step.state;
      return step;
    });
    const first = steps.findIndex((s) => s.change !== null);
    expect(first).toBe(DEFAULT_REGIME_CONFIG.volatilityWindow + DEFAULT_REGIME_CONFIG.minVolatilityHistory - 1);
    expect(steps.slice(0, first).every((s) => s.evidence === null)).toBe(true);
    expect(steps[first]!.change?.from).toBeNull();
    // the state is JSON: a snapshot round trip continues identically
    const copy = JSON.parse(JSON.stringify(steps[60]!.state)) as typeof state;
    expect(updateRegime(copy, bars[61]!)).toEqual(updateRegime(steps[60]!.state, bars[61]!));
  });

  it('hysteresis: one bar past a threshold does not change the regime; stay thresholds are looser than enter ones', () => {
    const evidence = { adx: 22, efficiencyRatio: 0.3, volatility: 0.01, volatilityPercentile: 0.95, volatilityRatio: 1.3 };
    expect(classify('trending', evidence)).toBe('trending');
    expect(classify('ranging', evidence)).toBe('ranging');
    expect(classify('high-volatility', evidence)).toBe('high-volatility');
    const closes = path_(400, (i, p, normal) => p * (1 + (i === 300 ? 0.03 : 0) + 0.001 * normal()));
    const { regimes } = detectRegimes(barsFromCloses(closes));
    expect(regimes[301]).toBe(regimes[299]);
  });

  it('market: high-volatility by breadth, else the majority, a tie keeps the current regime', () => {
    let market = { symbols: {}, regime: null } as Parameters<typeof updateMarketRegime>[0];
    let step = updateMarketRegime(market, 'A', 'trending');
    expect(step.change).toEqual({ from: null, to: 'trending' });
    market = step.state;
    step = updateMarketRegime(market, 'B', 'ranging');
    expect(step.change).toBeNull();
    market = step.state;
    step = updateMarketRegime(market, 'C', 'ranging');
    expect(step.change).toEqual({ from: 'trending', to: 'ranging' });
    market = step.state;
    step = updateMarketRegime(market, 'D', 'high-volatility');
    expect(step.change).toBeNull();
    market = step.state;
    step = updateMarketRegime(market, 'A', 'high-volatility');
    expect(step.change).toEqual({ from: 'ranging', to: 'high-volatility' });
    expect(step.evidence).toEqual({ symbols: 4, trending: 0, ranging: 2, highVolatility: 2 });
  });
});

describe('regime detector on real 5-minute NSE bars', () => {
  let data: DataFolder;
  beforeAll(async () => {
    data = await readDataFolder(path.resolve(process.cwd(), '../shared/data/nse-5min'));
  });

  it('updates an owned state in place to exactly what the pure update gives (as the actor does)', () => {
    for (const [, bars] of [...data.bars].slice(0, 3)) {
      let pure = initialRegimeState();
      let owned = initialRegimeState();
      for (const bar of bars) {
        const a = updateRegime(pure, bar);
        const before = JSON.stringify(pure);
        const b = updateRegime(owned, bar, DEFAULT_REGIME_CONFIG, true);
        expect(JSON.stringify(pure)).toBe(before); // the pure update left its input alone
        expect(b.change).toEqual(a.change);
        expect(b.evidence).toEqual(a.evidence);
        expect(b.state).toBe(owned); // in place: no new state object per bar
        pure = a.state;
        owned = b.state;
      }
      expect(JSON.stringify(owned)).toBe(JSON.stringify(pure));
    }
  });

  it('is deterministic and gives a sane distribution with few flips', () => {
    const totals: Record<Regime, number> = { trending: 0, ranging: 0, 'high-volatility': 0 };
    let classified = 0;
    let changes = 0;
    for (const [, bars] of data.bars) {
      const first = detectRegimes(bars);
      expect(detectRegimes(bars)).toEqual(first);
      for (const regime of first.regimes) {
        if (regime === null) continue;
        totals[regime] += 1;
        classified += 1;
      }
      changes += first.changes.length;
    }
    expect(data.bars.size).toBeGreaterThanOrEqual(5);
    const shares = Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, v / classified]));
    // every regime occurs; none swallows the rest; ranging is the most common on intraday bars
    expect(shares.trending).toBeGreaterThan(0.05);
    expect(shares['high-volatility']).toBeGreaterThan(0.01);
    expect(shares.ranging).toBeGreaterThan(0.3);
    expect(Math.max(...Object.values(shares))).toBeLessThan(0.9);
    // hysteresis: a regime lasts many bars on average
    expect(classified / changes).toBeGreaterThan(8);
  });
});
