/**
 * The stand-in LSTM input on real daily bars: features from the past only, labels from the
 * future only, a split in time that keeps training labels before the cut, and the dataset
 * checks.
 */
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertSequenceDataset, fitStandardiser, permutation, seededRandom, standardise } from '../../../src/ml/lstm/dataset.js';
import { concatSamples, splitAtTime, standInSamples, STAND_IN_FEATURES, VOLUME_LOOKBACK_BARS } from '../../../src/ml/lstm/stand-in-dataset.js';
import type { Bar } from '../../../src/model/market.js';
import { istTimeMs } from '../../../src/model/time.js';
import { readBarsFile } from '../../../src/streams/sources/csv-replay.js';

const DATA = resolve(process.cwd(), '../shared/data/nse-daily');
const F = STAND_IN_FEATURES.length;

let bars: Bar[] = [];
beforeAll(async () => {
  bars = await readBarsFile(resolve(DATA, 'INFY.csv'), 'INFY');
});

describe('standInSamples', () => {
  it('computes each window from the bars it ends at and before (checked by hand for one window)', () => {
    const T = 5;
    const { dataset, endMs, labelMs } = standInSamples(bars, { timeSteps: T, horizonBars: 3 });
    expect(dataset.labels.length).toBe(bars.length - VOLUME_LOOKBACK_BARS - (T - 1) - 3);
    assertSequenceDataset(dataset, 2);
    const n = 100;
    const end = VOLUME_LOOKBACK_BARS + T - 1 + n;
    expect(endMs[n]).toBe(bars[end]!.startMs);
    expect(labelMs[n]).toBe(bars[end + 3]!.startMs);
    const last = dataset.sequences.subarray((n * T + T - 1) * F, (n * T + T) * F);
    const bar = bars[end]!;
    const before = bars[end - 1]!;
    expect(last[0]).toBeCloseTo(Math.log(bar.closePaise) - Math.log(before.closePaise), 6);
    expect(last[1]).toBeCloseTo((bar.highPaise - bar.lowPaise) / before.closePaise, 6);
    expect(last[2]).toBeCloseTo(Math.log(bar.openPaise) - Math.log(before.closePaise), 6);
    const history = bars.slice(end - VOLUME_LOOKBACK_BARS, end).map((b) => Math.log(1 + b.volume));
    const mean = history.reduce((a, b) => a + b, 0) / history.length;
    const sd = Math.sqrt(history.reduce((a, b) => a + (b - mean) ** 2, 0) / history.length);
    expect(last[3]).toBeCloseTo((Math.log(1 + bar.volume) - mean) / sd, 4);
    expect(dataset.labels[n]).toBe(bars[end + 3]!.closePaise > bar.closePaise ? 1 : 0);
  });

  it('has no look-ahead: changing bars from k on changes no feature of a window ending before k', () => {
    const options = { timeSteps: 10, horizonBars: 2 };
    const k = 600;
    const shifted = bars.map((bar, index) =>
      index < k
        ? bar
        : {
            ...bar,
            closePaise: bar.closePaise * 2,
            highPaise: bar.highPaise * 2,
            lowPaise: bar.lowPaise * 2,
            openPaise: bar.openPaise * 2,
            volume: bar.volume * 3 + 7,
          },
    );
    const original = standInSamples(bars, options);
    const changed = standInSamples(shifted, options);
    const stride = 10 * F;
    let before = 0;
    for (let n = 0; n < original.endMs.length; n += 1) {
      if (original.endMs[n]! >= bars[k]!.startMs) break;
      expect(changed.dataset.sequences.subarray(n * stride, (n + 1) * stride)).toEqual(original.dataset.sequences.subarray(n * stride, (n + 1) * stride));
      before += 1;
    }
    expect(before).toBe(k - VOLUME_LOOKBACK_BARS - 9);
    // …and the window ending at k does change (the test would see a shift)
    expect(changed.dataset.sequences.subarray(before * stride, (before + 1) * stride)).not.toEqual(
      original.dataset.sequences.subarray(before * stride, (before + 1) * stride),
    );
  });

  it('labels three classes with a flat band', () => {
    const { dataset } = standInSamples(bars, { timeSteps: 4, horizonBars: 1, flatBand: 0.01 });
    for (let n = 0; n < 200; n += 1) {
      const end = VOLUME_LOOKBACK_BARS + 3 + n;
      const change = bars[end + 1]!.closePaise / bars[end]!.closePaise - 1;
      expect(dataset.labels[n]).toBe(change < -0.01 ? 0 : change > 0.01 ? 2 : 1);
    }
    expect(new Set(dataset.labels)).toEqual(new Set([0, 1, 2]));
  });

  it('refuses bad options', () => {
    expect(() => standInSamples(bars, { timeSteps: 0, horizonBars: 1 })).toThrow(/timeSteps/);
    expect(() => standInSamples(bars, { timeSteps: 3, horizonBars: 1.5 })).toThrow(/horizonBars/);
    expect(() => standInSamples(bars, { timeSteps: 3, horizonBars: 1, flatBand: -1 })).toThrow(/flatBand/);
  });
});

describe('splitAtTime', () => {
  it('keeps every training label before the cut and every test window after it', async () => {
    const tcs = await readBarsFile(resolve(DATA, 'TCS.csv'), 'TCS');
    const options = { timeSteps: 8, horizonBars: 5 };
    const all = concatSamples([standInSamples(bars, options), standInSamples(tcs, options)]);
    const cutMs = istTimeMs('2024-10-01', 0, 0);
    const { train, test } = splitAtTime(all, cutMs);
    expect(train.labelMs.every((ms) => ms < cutMs)).toBe(true);
    expect(test.endMs.every((ms) => ms >= cutMs)).toBe(true);
    // per symbol, the 5 windows labelled across the cut are dropped
    expect(train.dataset.labels.length + test.dataset.labels.length).toBe(all.dataset.labels.length - 2 * 5);
    const stride = 8 * F;
    const firstTest = all.endMs.findIndex((ms) => ms >= cutMs);
    expect(test.dataset.sequences.subarray(0, stride)).toEqual(all.dataset.sequences.subarray(firstTest * stride, (firstTest + 1) * stride));
  });
});

describe('dataset helpers', () => {
  it('standardises with the training mean and deviation (float32 arithmetic)', () => {
    const sequences = Float32Array.from([1, 10, 3, 30, 5, 50, 7, 70]);
    const dataset = { timeSteps: 2, features: 2, sequences, labels: Int32Array.from([0, 1]) };
    const { mean, scale } = fitStandardiser(dataset);
    expect([...mean]).toEqual([4, 40]);
    expect(scale[0]).toBeCloseTo(Math.sqrt(5), 6);
    expect(scale[1]).toBeCloseTo(Math.sqrt(500), 4);
    const out = standardise(sequences, { mean, scale });
    expect(out[0]).toBe(Math.fround(-3 / scale[0]!));
    expect(out[7]).toBe(Math.fround(30 / scale[1]!));
  });

  it('rejects malformed datasets with the first problem', () => {
    const ok = { timeSteps: 2, features: 1, sequences: Float32Array.from([0, 1, 2, 3]), labels: Int32Array.from([0, 1]) };
    expect(() => assertSequenceDataset(ok, 2)).not.toThrow();
    expect(() => assertSequenceDataset({ ...ok, sequences: ok.sequences.subarray(1) }, 2)).toThrow(/need 4/);
    expect(() => assertSequenceDataset({ ...ok, sequences: Float32Array.from([0, 1, Number.NaN, 3]) }, 2)).toThrow(/sample 1, step 0, feature 0 is not finite/);
    expect(() => assertSequenceDataset({ ...ok, labels: Int32Array.from([0, 2]) }, 2)).toThrow(/label 2/);
    expect(() => assertSequenceDataset({ ...ok, labels: new Int32Array(0), sequences: new Float32Array(0) }, 2)).toThrow(/no samples/);
  });

  it('draws the same permutation from the same seed', () => {
    const a = permutation(50, seededRandom(7));
    expect(permutation(50, seededRandom(7))).toEqual(a);
    expect(permutation(50, seededRandom(8))).not.toEqual(a);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
