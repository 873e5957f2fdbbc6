import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ActorRef,
  type ActorSystem,
  createActorSystem,
  createManualClock,
  createProbe,
  defineBehavior,
  eventually,
  type InletOptions,
  type SystemEvent,
} from '../../../src/actors/core/index.js';

interface Tick {
  readonly symbol: string;
  readonly price: number;
}

type FeedMessage<T> = { readonly type: 'batch'; readonly items: readonly T[] } | { readonly type: 'ping'; readonly replyTo: ActorRef<'pong'> };

let system: ActorSystem;
let events: SystemEvent[];

afterEach(async () => {
  await system.shutdown(1000);
});

/** An actor that forwards every batch it receives to a probe. */
function collector<T>(probeRef: ActorRef<readonly T[]>) {
  return defineBehavior<FeedMessage<T>, null>({
    kind: 'collector',
    initial: () => null,
    receive: (state, message, ctx) => {
      switch (message.type) {
        case 'batch':
          ctx.system.tell(probeRef, message.items);
          return state;
        case 'ping':
          ctx.system.tell(message.replyTo, 'pong');
          return state;
      }
    },
  });
}

function setUp<T>(options?: InletOptions<T>, clock?: ReturnType<typeof createManualClock>) {
  system = createActorSystem(clock === undefined ? {} : { clock, timers: clock });
  events = [];
  system.onEvent((event) => events.push(event));
  const probe = createProbe<readonly T[]>(system);
  const ref = system.spawn('feed', collector<T>(probe.ref));
  const inlet = system.inlet<T, FeedMessage<T>>(ref, (items) => ({ type: 'batch', items }), options);
  return { probe, ref, inlet };
}

const feedHealth = () => system.health().find((node) => node.path === '/feed');

describe('batching inlet', () => {
  it('delivers everything offered since the actor last ran as one message', async () => {
    const { probe, inlet } = setUp<number>();
    for (let i = 0; i < 1000; i++) inlet.offer(i);
    expect(inlet.pending).toBe(1000);
    const batch = await probe.expectMessage();
    expect(batch).toHaveLength(1000);
    expect(batch[0]).toBe(0);
    expect(batch[999]).toBe(999);
    expect(inlet.pending).toBe(0);
    await probe.expectNoMessage();
    expect(feedHealth()?.processed).toBe(1);

    inlet.offer(1000);
    inlet.offer(1001);
    expect(await probe.expectMessage()).toEqual([1000, 1001]); // a fresh buffer and envelope
    expect(feedHealth()?.processed).toBe(2);
  });

  it('items offered while a batch waits behind other messages join that batch', async () => {
    const clock = createManualClock();
    const { probe, ref, inlet } = setUp<number>(undefined, clock);
    system.injectFault(ref, 'hold'); // the default policy backs off 10 ms: the actor is busy meanwhile
    await eventually(() => expect(clock.pendingTimers).toBe(1));
    for (let i = 0; i < 10; i++) inlet.offer(i);
    const pong = system.ask<FeedMessage<number>, 'pong'>(ref, (replyTo) => ({ type: 'ping', replyTo }), 5_000);
    expect(feedHealth()).toMatchObject({ mailboxDepth: 11, status: 'restarting' }); // 1 message + 10 pending items
    for (let i = 10; i < 20; i++) inlet.offer(i);
    expect(feedHealth()?.mailboxDepth).toBe(21);
    clock.advance(10);
    expect(await probe.expectMessage()).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(await pong).toBe('pong');
    expect(feedHealth()).toMatchObject({ mailboxDepth: 0, status: 'running', processed: 2 });
  });

  it('conflate keeps the latest item per key, counts the rest as shed and reports it', async () => {
    const { probe, inlet } = setUp<Tick>({ overflow: { kind: 'conflate', key: (tick) => tick.symbol }, name: 'ticks' });
    inlet.offer({ symbol: 'INFY', price: 1 });
    inlet.offer({ symbol: 'TCS', price: 1 });
    inlet.offer({ symbol: 'INFY', price: 2 });
    inlet.offer({ symbol: 'INFY', price: 3 });
    expect(inlet.pending).toBe(2);
    expect(await probe.expectMessage()).toEqual([
      { symbol: 'INFY', price: 3 },
      { symbol: 'TCS', price: 1 },
    ]);
    expect(inlet.shed).toBe(2);
    expect(feedHealth()?.shed).toBe(2);
    expect(events).toContainEqual(expect.objectContaining({ type: 'Shed', path: '/feed', inlet: 'ticks', count: 2, totalShed: 2 }));

    inlet.offer({ symbol: 'INFY', price: 4 }); // conflation starts afresh with each batch
    expect(await probe.expectMessage()).toEqual([{ symbol: 'INFY', price: 4 }]);
    expect(inlet.shed).toBe(2);
  });

  it('property: a conflated batch holds the latest item of every key, in first-seen order', async () => {
    const { probe, inlet } = setUp<Tick>({ overflow: { kind: 'conflate', key: (tick) => tick.symbol } });
    let shedBefore = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ symbol: fc.constantFrom('A', 'B', 'C', 'D'), price: fc.integer() }), { minLength: 1, maxLength: 50 }),
        async (ticks) => {
          for (const tick of ticks) inlet.offer(tick);
          const latest = new Map<string, Tick>();
          for (const tick of ticks) latest.set(tick.symbol, tick);
          expect(await probe.expectMessage()).toEqual([...latest.values()]);
          expect(inlet.shed - shedBefore).toBe(ticks.length - latest.size);
          shedBefore = inlet.shed;
        },
      ),
      { numRuns: 50 },
    );
  });

  it('conflate at maxPending distinct keys drops the oldest key', async () => {
    const { probe, inlet } = setUp<Tick>({ maxPending: 2, overflow: { kind: 'conflate', key: (tick) => tick.symbol } });
    inlet.offer({ symbol: 'A', price: 1 });
    inlet.offer({ symbol: 'B', price: 1 });
    inlet.offer({ symbol: 'C', price: 1 });
    inlet.offer({ symbol: 'B', price: 2 });
    expect(await probe.expectMessage()).toEqual([
      { symbol: 'B', price: 2 },
      { symbol: 'C', price: 1 },
    ]);
    expect(inlet.shed).toBe(2);
  });

  it('drop-oldest bounds the buffer at maxPending', async () => {
    const { probe, inlet } = setUp<number>({ maxPending: 3, overflow: { kind: 'drop-oldest' } });
    for (let i = 1; i <= 5; i++) inlet.offer(i);
    expect(inlet.pending).toBe(3);
    expect(await probe.expectMessage()).toEqual([3, 4, 5]);
    expect(inlet.shed).toBe(2);
    expect(feedHealth()?.shed).toBe(2);
  });

  it('drop-oldest stays correct over long overflow (buffer compaction)', async () => {
    const { probe, inlet } = setUp<number>({ maxPending: 4, overflow: { kind: 'drop-oldest' } });
    for (let i = 0; i < 103; i++) inlet.offer(i);
    expect(await probe.expectMessage()).toEqual([99, 100, 101, 102]);
    expect(inlet.shed).toBe(99);
  });

  it('offers to a stopped actor are dead letters; pending items of a stopped actor too', async () => {
    const clock = createManualClock();
    const { ref, inlet } = setUp<number>(undefined, clock);
    system.injectFault(ref);
    await eventually(() => expect(clock.pendingTimers).toBe(1)); // busy in backoff
    inlet.offer(1);
    inlet.offer(2);
    await system.stop(ref, { timeoutMs: 20 }); // cannot drain while backing off: bounded
    expect(system.deadLetters).toBe(2);
    inlet.offer(3);
    expect(system.deadLetters).toBe(3);
    expect(events.filter((event) => event.type === 'DeadLetter').map((event) => event.count)).toEqual([2, 1]);
  });

  it('follows its path to a re-created actor', async () => {
    const { probe, ref, inlet } = setUp<number>();
    inlet.offer(1);
    expect(await probe.expectMessage()).toEqual([1]);
    await system.stop(ref);
    system.spawn('feed', collector<number>(probe.ref));
    inlet.offer(2);
    expect(await probe.expectMessage()).toEqual([2]);
  });
});
