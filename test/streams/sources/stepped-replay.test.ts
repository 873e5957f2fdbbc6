import { describe, expect, it } from 'vitest';
import type { Bar, Tick } from '../../../src/model/market.js';
import { istTimeMs } from '../../../src/model/time.js';
import { replayDataFromBars } from '../../../src/streams/sources/csv-replay.js';
import { steppedReplay$ } from '../../../src/streams/sources/stepped-replay.js';

const start = istTimeMs('2026-05-20', 9, 15);
const bar = (symbol: string, slot: number): Bar => ({
  type: 'bar',
  symbol,
  interval: '5m',
  startMs: start + slot * 300_000,
  openPaise: 10_000,
  highPaise: 10_100,
  lowPaise: 9_900,
  closePaise: 10_050,
  volume: 400,
  tickCount: 0,
});
// two symbols, two bars each: 4 timestamps of 2 ticks
const data = replayDataFromBars(
  new Map([
    ['A', [bar('A', 0), bar('A', 1)]],
    ['B', [bar('B', 0), bar('B', 1)]],
  ]),
  '5m',
);

describe('steppedReplay$', () => {
  it('emits one timestamp per step and the next only once ready() resolved; completes after the last ready()', async () => {
    const log: string[] = [];
    let release: (() => void) | undefined;
    const done = new Promise<void>((resolve, reject) => {
      steppedReplay$(data, {
        ready: () => {
          log.push('ready');
          return new Promise<void>((r) => (release = r));
        },
        onStep: (atMs, ticks) => log.push(`step +${atMs - start} ms: ${ticks.length}`),
      }).subscribe({ next: (ticks: readonly Tick[]) => log.push(ticks.map((t) => t.symbol).join('')), error: reject, complete: resolve });
    });
    expect(log).toEqual(['step +0 ms: 2', 'AB', 'ready']); // waits
    for (let i = 0; i < 8 && release; i += 1) {
      const go = release;
      release = undefined;
      go();
      await new Promise((r) => setImmediate(r));
    }
    await done;
    // four ticks a bar, spread over its five minutes (ticksFromBar); both symbols at each timestamp
    expect(log.filter((line) => line.startsWith('step'))).toEqual(
      [0, 99_999, 199_999, 299_999, 300_000, 399_999, 499_999, 599_999].map((ms) => `step +${ms} ms: 2`),
    );
    expect(log.filter((line) => line === 'ready')).toHaveLength(8);
    expect(log.at(-1)).toBe('ready');
  });

  it('steps on at once when ready() returns nothing (a consumer that settles steps itself)', () => {
    const steps: number[] = [];
    let completed = false;
    steppedReplay$(data, { ready: () => undefined }).subscribe({ next: (ticks) => steps.push(ticks.length), complete: () => (completed = true) });
    expect(steps).toEqual([2, 2, 2, 2, 2, 2, 2, 2]); // synchronously, within subscribe
    expect(completed).toBe(true);
  });

  it('errors the stream when ready() throws or rejects', async () => {
    const thrown = new Promise<unknown>((resolve) =>
      steppedReplay$(data, {
        ready: () => {
          throw new Error('tree failed');
        },
      }).subscribe({ error: resolve }),
    );
    expect(await thrown).toMatchObject({ message: 'tree failed' });
    const rejected = new Promise<unknown>((resolve) => steppedReplay$(data, { ready: () => Promise.reject(new Error('gone')) }).subscribe({ error: resolve }));
    expect(await rejected).toMatchObject({ message: 'gone' });
  });
});
