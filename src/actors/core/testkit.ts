/**
 * Test kit for actors, in the spirit of Akka's ActorTestKit: a typed probe, a poller instead of
 * sleeps, and manual time. Lives next to the core so every actor module's tests can use it.
 * No test-framework imports: failures are thrown `Error`s, which any runner reports.
 */

import { defineBehavior } from './behavior.js';
import type { ActorRef, ActorSystem, Clock, Timers } from './types.js';

/** A typed stand-in actor that records what it is told. Create with `createProbe`. */
export interface TestProbe<M> {
  /** Give this ref to the actor under test (e.g. as `replyTo`). */
  readonly ref: ActorRef<M>;
  /** Every message received so far, in order (including ones already expected). */
  readonly received: readonly M[];
  /**
   * The next message (waiting up to `timeoutMs`, default 3000). With a predicate, the next message
   * must satisfy it, otherwise this rejects showing the message.
   */
  expectMessage<T extends M>(predicate: (message: M) => message is T, timeoutMs?: number): Promise<T>;
  expectMessage(predicate?: (message: M) => boolean, timeoutMs?: number): Promise<M>;
  /** Skips messages until one satisfies the predicate (within `timeoutMs`, default 3000). */
  fishForMessage<T extends M>(predicate: (message: M) => message is T, timeoutMs?: number): Promise<T>;
  fishForMessage(predicate: (message: M) => boolean, timeoutMs?: number): Promise<M>;
  /** Asserts nothing arrives within `withinMs` (default 50): the one bounded wait of the kit. */
  expectNoMessage(withinMs?: number): Promise<void>;
  /** Stops the probe actor. */
  stop(): Promise<void>;
}

let probes = 0;

/** Spawns a probe actor (top-level, named `probe-<n>` unless `name` is given) in `system`. */
export function createProbe<M>(system: ActorSystem, name = `probe-${++probes}`): TestProbe<M> {
  const received: M[] = [];
  const queue: M[] = [];
  let waiter: ((message: M) => void) | undefined;

  const ref = system.spawn(
    name,
    defineBehavior<M, null>({
      kind: 'probe',
      initial: () => null,
      receive: (state, message) => {
        received.push(message);
        if (waiter !== undefined) {
          const deliver = waiter;
          waiter = undefined;
          deliver(message);
        } else {
          queue.push(message);
        }
        return state;
      },
    }),
    { supervision: { strategy: 'resume' } },
  );

  const next = (timeoutMs: number): Promise<M> => {
    if (queue.length > 0) return Promise.resolve(queue.shift() as M);
    if (waiter !== undefined) return Promise.reject(new Error(`probe ${name}: already waiting for a message`));
    return new Promise<M>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiter = undefined;
        reject(new Error(`probe ${name}: no message within ${timeoutMs} ms`));
      }, timeoutMs);
      waiter = (message) => {
        clearTimeout(timer);
        resolve(message);
      };
    });
  };

  const probe = {
    ref,
    received,
    async expectMessage(predicate?: (message: M) => boolean, timeoutMs = 3000): Promise<M> {
      const message = await next(timeoutMs);
      if (predicate !== undefined && !predicate(message)) {
        throw new Error(`probe ${name}: unexpected message ${describe(message)}`);
      }
      return message;
    },
    async fishForMessage(predicate: (message: M) => boolean, timeoutMs = 3000): Promise<M> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const message = await next(Math.max(1, deadline - Date.now()));
        if (predicate(message)) return message;
      }
    },
    async expectNoMessage(withinMs = 50): Promise<void> {
      if (queue.length > 0) throw new Error(`probe ${name}: unexpected message ${describe(queue[0])}`);
      let arrived: M | undefined;
      let got = false;
      try {
        arrived = await next(withinMs);
        got = true;
      } catch {
        return;
      }
      if (got) throw new Error(`probe ${name}: unexpected message ${describe(arrived)}`);
    },
    stop: () => system.stop(ref),
  };
  return probe as TestProbe<M>;
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Options of `eventually`. */
export interface EventuallyOptions {
  /** Give up after this long (default 3000 ms) and rethrow the last failure. */
  readonly timeoutMs?: number;
  /** Pause between attempts (default 2 ms). */
  readonly intervalMs?: number;
}

/**
 * Polls `check` until it stops throwing (or its promise stops rejecting) and returns its value.
 * Use instead of sleeps: `await eventually(() => expect(health().processed).toBe(3))`.
 */
export async function eventually<T>(check: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const intervalMs = options.intervalMs ?? 2;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() >= deadline) throw error;
    }
    await new Promise<void>((resolve) => setTimeout(resolve, intervalMs));
  }
}

interface ManualTimer {
  readonly id: number;
  readonly dueMs: number;
  readonly callback: () => void;
}

/**
 * Manual time, the one simulated clock: a `Clock` plus `Timers` that only move when the caller
 * says so. Backtests and replays move it to each step's market time (`advanceTo`); tests pass it
 * as both `clock` and `timers` to `createActorSystem` and move it by hand (`advance`).
 */
export class ManualClock implements Clock, Timers {
  private nextId = 0;
  private timers: ManualTimer[] = [];

  constructor(private now = 0) {}

  nowMs(): number {
    return this.now;
  }

  setTimeout(callback: () => void, delayMs: number): unknown {
    const timer = { id: ++this.nextId, dueMs: this.now + Math.max(0, delayMs), callback };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer.id !== handle);
  }

  /** Moves time forward, firing due timers in order (each sees `nowMs()` = its due time). */
  advance(deltaMs: number): void {
    const target = this.now + deltaMs;
    for (;;) {
      const due = this.earliest();
      if (due === undefined || due.dueMs > target) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.now = due.dueMs;
      due.callback();
    }
    this.now = target;
  }

  /** Moves to `ms` (firing due timers); time never goes backwards. */
  advanceTo(ms: number): void {
    if (ms > this.now) this.advance(ms - this.now);
  }

  /** Timers scheduled and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Delay from now to the earliest pending timer, if any. */
  nextTimerInMs(): number | undefined {
    const due = this.earliest();
    return due === undefined ? undefined : due.dueMs - this.now;
  }

  private earliest(): ManualTimer | undefined {
    return this.timers.reduce<ManualTimer | undefined>(
      (best, timer) => (best === undefined || timer.dueMs < best.dueMs || (timer.dueMs === best.dueMs && timer.id < best.id) ? timer : best),
      undefined,
    );
  }
}

/** Creates manual time starting at `startMs`; pass it as both `clock` and `timers` to `createActorSystem`. */
export function createManualClock(startMs = 0): ManualClock {
  return new ManualClock(startMs);
}
