import { describe, expect, it } from 'vitest';
import { BatchCollector } from '../../src/streams/batch-collector.js';

describe('BatchCollector', () => {
  it('hands out each batch as its own exact-size array and starts empty again', () => {
    const collector = new BatchCollector<number>();
    expect(collector.first()).toBeUndefined();
    for (const n of [1, 2, 3]) collector.push(n);
    expect(collector.size).toBe(3);
    expect(collector.first()).toBe(1);
    const first = collector.take();
    expect(first).toEqual([1, 2, 3]);
    expect(collector.size).toBe(0);
    collector.push(4);
    const second = collector.take();
    expect(second).toEqual([4]);
    expect(first).toEqual([1, 2, 3]); // a taken batch is never reused
    expect(collector.take()).toEqual([]);
  });

  it('lets a burst go and keeps working', () => {
    const collector = new BatchCollector<number>();
    for (let n = 0; n < 5000; n += 1) collector.push(n);
    expect(collector.take()).toHaveLength(5000);
    collector.push(7);
    expect(collector.take()).toEqual([7]);
  });
});
