/**
 * Coalesced user mailboxes: every `tell` queued since an actor last ran is processed in ONE nact
 * turn (one `setImmediate`), with today's per-message semantics (order, counters, snapshots,
 * supervision, dead letters) and a per-turn bound.
 */

import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type ActorHealth,
  type ActorRef,
  type ActorSystem,
  createActorSystem,
  createManualClock,
  defineBehavior,
  eventually,
  type Json,
  type ManualClock,
  type SupervisionPolicy,
  type SystemEvent,
} from '../../../src/actors/core/index.js';
import { ActorCell, MAX_USER_MESSAGES_PER_TURN } from '../../../src/actors/core/cell.js';

let system: ActorSystem;
let events: SystemEvent[];

afterEach(async () => {
  vi.restoreAllMocks();
  await system.shutdown(1000);
});

function start(clock?: ManualClock): void {
  system = createActorSystem(clock === undefined ? {} : { clock, timers: clock });
  events = [];
  system.onEvent((event) => events.push(event));
}

const ofType = <T extends SystemEvent['type']>(type: T): Extract<SystemEvent, { type: T }>[] =>
  events.filter((event): event is Extract<SystemEvent, { type: T }> => event.type === type);

function find(path: string, tree: ActorHealth[] = system.health()): ActorHealth | undefined {
  for (const node of tree) {
    if (node.path === path) return node;
    const below = find(path, node.children);
    if (below !== undefined) return below;
  }
  return undefined;
}

/** Counts event-loop turns: `turn` advances once per `setImmediate` round while running. */
function turnCounter(): { readonly now: () => number; readonly stop: () => void } {
  let turn = 0;
  let running = true;
  const tick = (): void => {
    turn += 1;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  return { now: () => turn, stop: () => (running = false) };
}

/** Protocol of the recorder: appends `n` to its state (a list), `fail` throws. */
type RecMessage =
  { readonly type: 'add'; readonly n: number } | { readonly type: 'fail' } | { readonly type: 'get'; readonly replyTo: ActorRef<readonly number[]> };

const add = (n: number): RecMessage => ({ type: 'add', n });
const failMessage: RecMessage = { type: 'fail' };

/** Records every `add` (into the state and `log`, with the turn it ran in). */
function recorder(options: { readonly log?: { n: number; turn: number }[]; readonly turn?: () => number; readonly everyMessages?: number } = {}) {
  return defineBehavior<RecMessage, readonly number[]>({
    kind: 'recorder',
    initial: (_ctx, restored) => restored ?? [],
    receive: (list, message, ctx) => {
      switch (message.type) {
        case 'add':
          options.log?.push({ n: message.n, turn: options.turn?.() ?? 0 });
          return [...list, message.n];
        case 'fail':
          throw new Error('boom');
        case 'get':
          ctx.system.tell(message.replyTo, list);
          return list;
      }
    },
    ...(options.everyMessages === undefined
      ? {}
      : {
          snapshot: {
            everyMessages: options.everyMessages,
            codec: {
              version: 1,
              encode: (list: readonly number[]): Json => [...list],
              decode: (json: Json) => json as number[],
            },
          },
        }),
  });
}

const getList = (ref: ActorRef<RecMessage>): Promise<readonly number[]> =>
  system.ask<RecMessage, readonly number[]>(ref, (replyTo) => ({ type: 'get', replyTo }), 2000);

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const noBackoffRestart: SupervisionPolicy = { strategy: 'restart', maxRestarts: 10, withinMs: 60_000 };

describe('coalesced mailbox', () => {
  it('many tells in one turn are processed in order, as one nact message in one event-loop turn', async () => {
    start();
    const turns = turnCounter();
    const log: { n: number; turn: number }[] = [];
    const ref = system.spawn('rec', recorder({ log, turn: turns.now }));
    const nactMessages = vi.spyOn(ActorCell.prototype, 'process');
    for (let n = 1; n <= 1000; n++) system.tell(ref, add(n));
    expect(find('/rec')?.mailboxDepth).toBe(1000); // queued user messages still count
    await eventually(() => expect(log).toHaveLength(1000));
    turns.stop();
    expect(log.map((entry) => entry.n)).toEqual(range(1, 1000));
    expect(new Set(log.map((entry) => entry.turn)).size).toBe(1);
    expect(nactMessages).toHaveBeenCalledTimes(1);
    expect(find('/rec')).toMatchObject({ processed: 1000, mailboxDepth: 0 });
  });

  it('a throw in the middle of a run restarts from the last snapshot; the later messages follow in order', async () => {
    const clock = createManualClock(1_000);
    start(clock);
    const ref = system.spawn('rec', recorder({ everyMessages: 2 }), {
      supervision: { strategy: 'restart', maxRestarts: 5, withinMs: 60_000, backoff: { minMs: 100, maxMs: 1_000, factor: 2 } },
    });
    for (let n = 1; n <= 5; n++) system.tell(ref, add(n)); // snapshots after 2 and 4
    system.tell(ref, failMessage);
    for (let n = 6; n <= 10; n++) system.tell(ref, add(n));
    await eventually(() => expect(clock.pendingTimers).toBe(1)); // backing off
    expect(find('/rec')).toMatchObject({ status: 'restarting', processed: 5, failures: 1, mailboxDepth: 5 });
    clock.advance(100);
    // The rest of the run continues by itself after the restart (no later tell needed to wake it).
    await eventually(() => expect(find('/rec')).toMatchObject({ status: 'running', processed: 10, mailboxDepth: 0 }));
    // 5 was not in a snapshot: lost with the state; 6..10 were neither lost nor reordered.
    expect(await getList(ref)).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 10]);
    expect(ofType('ActorRestarted')).toEqual([expect.objectContaining({ path: '/rec', restarts: 1, restoredFromSequence: 4 })]);
    expect(find('/rec')).toMatchObject({ status: 'running', restarts: 1, processed: 11, mailboxDepth: 0 });
  });

  it('several failures in one run: each is supervised, everything else is processed in order', async () => {
    start();
    const ref = system.spawn('rec', recorder({ everyMessages: 1 }), { supervision: noBackoffRestart });
    system.tell(ref, add(1));
    system.tell(ref, failMessage);
    system.tell(ref, add(2));
    system.tell(ref, failMessage);
    system.tell(ref, failMessage);
    system.tell(ref, add(3));
    expect(await getList(ref)).toEqual([1, 2, 3]);
    expect(find('/rec')).toMatchObject({ failures: 3, restarts: 3 });
  });

  it('resume keeps the state reached by the messages before the failing one', async () => {
    start();
    const ref = system.spawn('rec', recorder(), { supervision: { strategy: 'resume' } });
    system.tell(ref, add(1));
    system.tell(ref, add(2));
    system.tell(ref, failMessage);
    system.tell(ref, add(3));
    expect(await getList(ref)).toEqual([1, 2, 3]);
    expect(find('/rec')).toMatchObject({ failures: 1, restarts: 0, processed: 4 });
  });

  it('stop with messages queued behind the failure dead-letters them, in order', async () => {
    start();
    const ref = system.spawn('rec', recorder(), { supervision: { strategy: 'stop' } });
    system.tell(ref, add(1));
    system.tell(ref, failMessage);
    for (let n = 2; n <= 4; n++) system.tell(ref, add(n));
    await eventually(() => expect(ofType('ActorStopped')).toEqual([expect.objectContaining({ path: '/rec', reason: 'supervision' })]));
    expect(system.deadLetters).toBe(3);
    expect(ofType('DeadLetter').map((event) => [event.reason, event.count, event.message])).toEqual([
      ['stopped', 1, add(2)],
      ['stopped', 1, add(3)],
      ['stopped', 1, add(4)],
    ]);
    expect(find('/rec')).toMatchObject({ status: 'stopped', processed: 1, mailboxDepth: 0 });
  });

  it('an escalation that stops the actor dead-letters its queue (queued meanwhile too)', async () => {
    start();
    const ref = system.spawn('rec', recorder(), { supervision: { strategy: 'escalate' } });
    system.tell(ref, failMessage);
    system.tell(ref, add(1));
    system.tell(ref, add(2));
    await eventually(() => expect(ofType('ActorStopped')).toEqual([expect.objectContaining({ path: '/rec', reason: 'escalated' })]));
    expect(system.deadLetters).toBe(2);
  });

  it('the per-turn bound yields to other actors, then continues the run in order', async () => {
    start();
    const total = 2 * MAX_USER_MESSAGES_PER_TURN + 500;
    const log: number[] = [];
    const big = system.spawn(
      'big',
      defineBehavior<RecMessage, null>({
        kind: 'big',
        initial: () => null,
        receive: (state, message) => {
          if (message.type === 'add') log.push(message.n);
          return state;
        },
      }),
    );
    let bigDoneWhenSmallRan = -1;
    const small = system.spawn(
      'small',
      defineBehavior<RecMessage, null>({
        kind: 'small',
        initial: () => null,
        receive: (state) => {
          bigDoneWhenSmallRan = log.length;
          return state;
        },
      }),
    );
    const nactMessages = vi.spyOn(ActorCell.prototype, 'process');
    for (let n = 1; n <= total; n++) system.tell(big, add(n));
    system.tell(small, add(0)); // told after all of big's messages
    await eventually(() => expect(log).toHaveLength(total));
    expect(bigDoneWhenSmallRan).toBe(MAX_USER_MESSAGES_PER_TURN); // small ran after big's first turn
    expect(log).toEqual(range(1, total));
    expect(nactMessages).toHaveBeenCalledTimes(3 + 1); // big: 3 turns; small: 1
    expect(find('/big')).toMatchObject({ processed: total, mailboxDepth: 0 });
  });

  it('messages told while a run is processed queue behind what other actors were told first (a self-tell loop cannot starve them)', async () => {
    start();
    const seen: string[] = [];
    const other = system.spawn('other', recorder());
    const ref = system.spawn(
      'loop',
      defineBehavior<RecMessage, null>({
        kind: 'loop',
        initial: () => null,
        receive: (state, message, ctx) => {
          if (message.type === 'add') {
            seen.push(`loop ${message.n}`);
            if (message.n < 3) {
              ctx.system.tell(ctx.self, add(message.n + 10));
              if (message.n === 1) ctx.system.tell(other, add(99));
            }
          }
          return state;
        },
      }),
    );
    system.tell(ref, add(1));
    system.tell(ref, add(2));
    await eventually(() => expect(seen).toHaveLength(4));
    expect(seen).toEqual(['loop 1', 'loop 2', 'loop 11', 'loop 12']);
    expect(await getList(other)).toEqual([99]);
  });

  it('an endless self-tell loop still lets timers and I/O run (the run queue yields every few ms)', async () => {
    start();
    let stopAsked = false;
    let rounds = 0;
    const ref = system.spawn(
      'spin',
      defineBehavior<RecMessage, null>({
        kind: 'spin',
        initial: () => null,
        receive: (state, message, ctx) => {
          rounds += 1;
          if (!stopAsked) ctx.system.tell(ctx.self, message);
          return state;
        },
      }),
    );
    system.tell(ref, add(1));
    // a timer set after the loop started fires while it runs, and stops it
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        stopAsked = true;
        resolve();
      }, 20),
    );
    const atStop = rounds;
    expect(atStop).toBeGreaterThan(100);
    await eventually(() => expect(find('/spin')).toMatchObject({ mailboxDepth: 0 }));
    expect(rounds).toBeLessThanOrEqual(atStop + 1);
  });

  it('keeps mailbox order with signals: tells before injectFault run before it, later ones after', async () => {
    start();
    const log: { n: number; turn: number }[] = [];
    system.onEvent((event) => {
      if (event.type === 'ActorFailed') log.push({ n: -1, turn: 0 }); // the fault, in processing order
    });
    const ref = system.spawn('rec', recorder({ log }), { supervision: { strategy: 'resume' } });
    system.tell(ref, add(1));
    system.tell(ref, add(2));
    system.injectFault(ref);
    system.tell(ref, add(3));
    expect(await getList(ref)).toEqual([1, 2, 3]);
    expect(log.map((entry) => entry.n)).toEqual([1, 2, -1, 3]);
  });

  it('keeps mailbox order with inlets: tell, offer, tell arrive as message, batch, message', async () => {
    start();
    type Msg = { readonly type: 'one'; readonly n: number } | { readonly type: 'batch'; readonly items: readonly number[] };
    const seen: string[] = [];
    const ref = system.spawn(
      'mixed',
      defineBehavior<Msg, null>({
        kind: 'mixed',
        initial: () => null,
        receive: (state, message) => {
          seen.push(message.type === 'one' ? `one:${message.n}` : `batch:${message.items.join(',')}`);
          return state;
        },
      }),
    );
    const inlet = system.inlet<number, Msg>(ref, (items) => ({ type: 'batch', items }));
    system.tell(ref, { type: 'one', n: 1 });
    inlet.offer(10);
    system.tell(ref, { type: 'one', n: 2 });
    inlet.offer(11); // joins the pending batch
    system.tell(ref, { type: 'one', n: 3 });
    expect(find('/mixed')?.mailboxDepth).toBe(5);
    await eventually(() => expect(seen).toHaveLength(4));
    expect(seen).toEqual(['one:1', 'batch:10,11', 'one:2', 'one:3']);
  });

  it('a graceful stop processes everything told before it and refuses what comes after', async () => {
    start();
    const log: { n: number; turn: number }[] = [];
    const ref = system.spawn('rec', recorder({ log }));
    for (let n = 1; n <= 100; n++) system.tell(ref, add(n));
    const stopped = system.stop(ref);
    system.tell(ref, add(101));
    await stopped;
    expect(log.map((entry) => entry.n)).toEqual(range(1, 100));
    expect(ofType('DeadLetter').map((event) => event.reason)).toEqual(['stopping']);
  });
});
