import { describe, expect, it } from 'vitest';
import { createFeatureSet } from '../../src/features/index.js';
import { istTimeMs, type Bar } from '../../src/model/index.js';
import { bar } from '../support/builders.js';

/** A deterministic daily path: trend + two cycles, varying volume and ranges. */
function bars(count: number): Bar[] {
  return Array.from({ length: count }, (_, t) => {
    const close = Math.round(100_000 + 40 * t + 2_000 * Math.sin(t / 5) + 700 * Math.cos(t / 2.3));
    const open = Math.round(close - 300 * Math.sin(t));
    return bar({
      symbol: 'INFY',
      interval: '1d',
      startMs: istTimeMs('2025-01-01', 9, 15) + t * 86_400_000,
      openPaise: open,
      highPaise: Math.max(open, close) + 200 + (t % 7) * 30,
      lowPaise: Math.min(open, close) - 150 - (t % 5) * 40,
      closePaise: close,
      volume: 10_000 + ((t * 7919) % 5_000),
    });
  });
}

const mean = (values: readonly number[]): number => values.reduce((s, v) => s + v, 0) / values.length;

describe('feature set', () => {
  it('names 50+ features and yields them all as finite numbers after warm-up', () => {
    const features = createFeatureSet();
    expect(features.names.length).toBeGreaterThanOrEqual(50);
    expect(new Set(features.names).size).toBe(features.names.length);
    expect(Object.values(features.values()).every((v) => v === null)).toBe(true);
    for (const b of bars(150)) features.update(b);
    const values = features.values();
    expect(Object.keys(values)).toEqual(features.names);
    const finite = Object.entries(values).filter(([, v]) => v !== null && Number.isFinite(v));
    expect(finite.length).toBeGreaterThanOrEqual(50);
    expect(finite.length).toBe(features.names.length);
  });

  it('matches hand-computed values', () => {
    const path = bars(130);
    const features = createFeatureSet();
    for (const b of path) features.update(b);
    const v = features.values();
    const closes = path.map((b) => b.closePaise);
    const last = closes[closes.length - 1]!;
    expect(v.ret_1).toBeCloseTo(last / closes[closes.length - 2]! - 1, 12);
    expect(v.ret_5).toBeCloseTo(last / closes[closes.length - 6]! - 1, 12);
    expect(v.dist_sma_5).toBeCloseTo(last / mean(closes.slice(-5)) - 1, 12);
    expect(v.dist_sma_100).toBeCloseTo(last / mean(closes.slice(-100)) - 1, 12);
    // Bollinger %b with the population deviation of the last 20 closes
    const c20 = closes.slice(-20);
    const sd = Math.sqrt(mean(c20.map((c) => (c - mean(c20)) ** 2)));
    expect(v.bb_pct_b_20).toBeCloseTo((last - (mean(c20) - 2 * sd)) / (4 * sd), 9);
    // volume z-score over the last 20 bars (sample deviation)
    const vols = path.slice(-20).map((b) => b.volume);
    const vsd = Math.sqrt(vols.reduce((s, x) => s + (x - mean(vols)) ** 2, 0) / 19);
    expect(v.volume_z_20).toBeCloseTo((vols[19]! - mean(vols)) / vsd, 12);
    // 20-bar volatility of log returns (sample deviation)
    const logs = closes
      .slice(-21)
      .map((c, i, a) => (i === 0 ? 0 : Math.log(c / a[i - 1]!)))
      .slice(1);
    expect(v.vol_20).toBeCloseTo(Math.sqrt(logs.reduce((s, x) => s + (x - mean(logs)) ** 2, 0) / 19), 12);
    // daily bars: each bar is its own session, so session VWAP is the bar's typical price
    const lastBar = path[path.length - 1]!;
    expect(v.dist_vwap_session).toBeCloseTo(last / ((lastBar.highPaise + lastBar.lowPaise + lastBar.closePaise) / 3) - 1, 12);
  });

  it('computes RSI(14) as Wilder did', () => {
    const path = bars(60);
    const features = createFeatureSet();
    for (const b of path) features.update(b);
    const closes = path.map((b) => b.closePaise);
    const changes = closes.slice(1).map((c, i) => c - closes[i]!);
    let gain = mean(changes.slice(0, 14).map((c) => Math.max(c, 0)));
    let loss = mean(changes.slice(0, 14).map((c) => Math.max(-c, 0)));
    for (const c of changes.slice(14)) {
      gain = (gain * 13 + Math.max(c, 0)) / 14;
      loss = (loss * 13 + Math.max(-c, 0)) / 14;
    }
    expect(features.values().rsi_14).toBeCloseTo(100 - 100 / (1 + gain / loss), 6);
  });

  it('restarts the session VWAP each IST day on intraday bars', () => {
    const features = createFeatureSet();
    const day1 = bar({
      interval: '5m',
      startMs: istTimeMs('2026-05-20', 15, 25),
      highPaise: 200_000,
      lowPaise: 200_000,
      closePaise: 200_000,
      openPaise: 200_000,
      volume: 1_000_000,
    });
    const day2 = bar({
      interval: '5m',
      startMs: istTimeMs('2026-05-21', 9, 15),
      highPaise: 101_000,
      lowPaise: 99_000,
      closePaise: 100_000,
      openPaise: 100_000,
      volume: 10,
    });
    features.update(day1);
    features.update(day2);
    expect(features.values().dist_vwap_session).toBeCloseTo(0, 12);
  });
});
