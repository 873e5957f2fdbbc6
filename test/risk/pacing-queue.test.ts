import { describe, expect, it } from 'vitest';
import { PacingQueue, type PacedIntent, type PacingOutcome } from '../../src/risk/pacing-queue.js';
import { intent } from '../support/builders.js';

const t0 = Date.parse('2026-05-20T09:45:00Z');

const paced = (id: number, exit: boolean, queuedAtMs = t0, strategyId = 's1'): PacedIntent => ({
  intent: intent({ intentId: `${strategyId}:${id}`, strategyId, side: exit ? 'SELL' : 'BUY' }),
  clientOrderId: `C${id}`,
  exit,
  queuedAtMs,
});

/** Releases with an answer per intent id (default `done`); returns the ids offered, in order. */
function offer(queue: PacingQueue, answers: Record<string, PacingOutcome> = {}): string[] {
  const offered: string[] = [];
  queue.release((p) => {
    offered.push(p.intent.intentId);
    return answers[p.intent.intentId] ?? 'done';
  });
  return offered;
}

describe('pacing queue', () => {
  it('offers exits first, then entries, each in arrival order', () => {
    const queue = new PacingQueue();
    // arrival: entry 0, exit 1, entry 2, exit 3, exit 4, entry 5
    for (const [id, exit] of [
      [0, false],
      [1, true],
      [2, false],
      [3, true],
      [4, true],
      [5, false],
    ] as const)
      queue.push(paced(id, exit, t0 + id));
    expect(queue.size).toBe(6);
    expect(queue.list().map((p) => p.intent.intentId)).toEqual(['s1:1', 's1:3', 's1:4', 's1:0', 's1:2', 's1:5']);
    expect(offer(queue)).toEqual(['s1:1', 's1:3', 's1:4', 's1:0', 's1:2', 's1:5']);
    expect(queue.size).toBe(0);
  });

  it('stops at a full overall window and resumes in the same order; a held intent keeps its place', () => {
    const queue = new PacingQueue();
    for (let id = 0; id < 6; id += 1) queue.push(paced(id, id % 2 === 1, t0 + id));
    // exits 1, 3, 5 then entries 0, 2, 4: 3 is held (its strategy's window), the overall window fills at 0
    expect(offer(queue, { 's1:3': 'held', 's1:0': 'stop' })).toEqual(['s1:1', 's1:3', 's1:5', 's1:0']);
    expect(queue.list().map((p) => p.intent.intentId)).toEqual(['s1:3', 's1:0', 's1:2', 's1:4']);
    // the next release starts with the held exit, then the entry that met the full window
    expect(offer(queue, { 's1:2': 'stop' })).toEqual(['s1:3', 's1:0', 's1:2']);
    expect(queue.list().map((p) => p.intent.intentId)).toEqual(['s1:2', 's1:4']);
    expect(offer(queue)).toEqual(['s1:2', 's1:4']);
    expect(queue.size).toBe(0);
  });

  it('a stop among the exits offers no entry', () => {
    const queue = new PacingQueue();
    queue.push(paced(0, false));
    queue.push(paced(1, true));
    expect(offer(queue, { 's1:1': 'stop' })).toEqual(['s1:1']);
    expect(queue.size).toBe(2);
  });

  it('drops only entries that waited longer than the limit, oldest first; exits never expire', () => {
    const queue = new PacingQueue(60_000);
    queue.push(paced(0, false, t0));
    queue.push(paced(1, true, t0));
    queue.push(paced(2, false, t0 + 30_000));
    queue.push(paced(3, false, t0 + 1_000));
    expect(queue.expire(t0 + 60_000)).toEqual([]); // exactly the limit: still current
    expect(queue.expire(t0 + 61_001).map((p) => p.intent.intentId)).toEqual(['s1:0', 's1:3']);
    expect(queue.list().map((p) => p.intent.intentId)).toEqual(['s1:1', 's1:2']);
    expect(queue.expire(t0 + 10 * 60_000).map((p) => p.intent.intentId)).toEqual(['s1:2']);
    expect(queue.list().map((p) => p.intent.intentId)).toEqual(['s1:1']);
    expect(() => new PacingQueue(0)).toThrow(RangeError);
  });

  it('encodes and restores with its order', () => {
    const queue = new PacingQueue();
    for (let id = 0; id < 4; id += 1) queue.push(paced(id, id === 2, t0 + id));
    const copy = new PacingQueue();
    copy.restore(JSON.parse(JSON.stringify(queue.encode())) as PacedIntent[]);
    expect(copy.list()).toEqual(queue.list());
    expect(offer(copy)).toEqual(['s1:2', 's1:0', 's1:1', 's1:3']);
  });
});
