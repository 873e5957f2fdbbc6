import { afterEach, describe, expect, it } from 'vitest';
import {
  type ActorHealth,
  type ActorRef,
  type ActorSystem,
  createActorSystem,
  createManualClock,
  defineBehavior,
  eventually,
  InMemorySnapshotStore,
  type Snapshot,
  type SnapshotStore,
  type SystemEvent,
} from '../../../src/actors/core/index.js';
import { type CounterMessage, counter, counterCodec, fail, inc } from './fixtures.js';

let system: ActorSystem;

afterEach(async () => {
  await system.shutdown(1000);
});

const getCount = (ref: ActorRef<CounterMessage>): Promise<number> => system.ask<CounterMessage, number>(ref, (replyTo) => ({ type: 'get', replyTo }), 2000);

describe('health', () => {
  it('reports the tree with depth, processed, failures, restarts, lastError and snapshot time', async () => {
    const clock = createManualClock(5_000);
    system = createActorSystem({ clock, timers: clock });
    const root = system.spawn(
      'desk',
      defineBehavior<{ readonly type: 'noop' }, null>({
        kind: 'desk',
        initial: (ctx) => {
          ctx.spawn('alpha', counter({ snapshot: { everyMessages: 1 } }), { supervision: { strategy: 'restart', maxRestarts: 5, withinMs: 1_000 } });
          ctx.spawn('beta', counter());
          return null;
        },
        receive: (state) => state,
      }),
    );
    const alpha: ActorRef<CounterMessage> = { path: '/desk/alpha' };
    system.tell(alpha, inc(1));
    system.tell(alpha, fail('alpha broke'));
    expect(await getCount(alpha)).toBe(1);
    system.tell(root, { type: 'noop' });
    await eventually(() => expect(system.health()[0]?.processed).toBe(1));

    const [desk] = system.health();
    expect(desk).toMatchObject({ path: '/desk', kind: 'desk', status: 'running', mailboxDepth: 0, processed: 1, failures: 0, restarts: 0 });
    expect(desk?.children.map((child) => child.path)).toEqual(['/desk/alpha', '/desk/beta']);
    const alphaHealth = desk?.children[0] as ActorHealth;
    expect(alphaHealth).toMatchObject({
      kind: 'counter',
      status: 'running',
      processed: 2, // increment + get (the failing message is not counted)
      failures: 1,
      restarts: 1,
      lastError: { message: 'alpha broke', atMs: 5_000 },
      lastSnapshotAtMs: 5_000,
      shed: 0,
      snapshotFailures: 0,
      children: [],
    });
    expect(alphaHealth.processingTimeUsTotal).toBeGreaterThanOrEqual(alphaHealth.processingTimeUsMax);
    expect(desk?.children[1]).not.toHaveProperty('lastError');
  });
});

describe('snapshots', () => {
  it('takes snapshots every N messages and keeps the last one in memory and in the store', async () => {
    const store = new InMemorySnapshotStore();
    system = createActorSystem({ snapshotStore: store });
    const ref = system.spawn('counter', counter({ snapshot: { everyMessages: 3 } }));
    for (let i = 0; i < 7; i++) system.tell(ref, inc(1));
    expect(await getCount(ref)).toBe(7);
    expect(store.saves).toBe(2);
    expect(store.get('/counter')).toMatchObject({ key: '/counter', version: 1, state: { count: 6 }, sequence: 6 });
    expect(system.lastSnapshot(ref)).toEqual(store.get('/counter'));
    expect(system.lastSnapshot('/counter')).toEqual(store.get('/counter'));
  });

  it('takes snapshots every T ms of message time (system clock), with a custom key', async () => {
    const clock = createManualClock();
    const store = new InMemorySnapshotStore();
    system = createActorSystem({ clock, timers: clock, snapshotStore: store });
    const ref = system.spawn('counter', defineBehavior({ ...counter(), snapshot: { codec: counterCodec, everyMs: 1_000, key: 'counter-v1' } }));
    system.tell(ref, inc(1));
    expect(await getCount(ref)).toBe(1);
    expect(store.saves).toBe(0);
    clock.advance(1_000);
    system.tell(ref, inc(1));
    await eventually(() => expect(store.get('counter-v1')).toMatchObject({ state: { count: 2 }, atMs: 1_000 }));
  });

  it('a failing store is counted and reported; the actor keeps working', async () => {
    const failing: SnapshotStore = {
      save: () => Promise.reject(new Error('disk full')),
      load: () => Promise.resolve(undefined),
    };
    system = createActorSystem({ snapshotStore: failing });
    const events: SystemEvent[] = [];
    system.onEvent((event) => events.push(event));
    const ref = system.spawn('counter', counter({ snapshot: { everyMessages: 1 } }));
    system.tell(ref, inc(1));
    await eventually(() => expect(system.health()[0]?.snapshotFailures).toBe(1));
    expect(events).toContainEqual(expect.objectContaining({ type: 'SnapshotFailed', path: '/counter', key: '/counter' }));
    expect(await getCount(ref)).toBe(1);
  });

  it('persists across systems: spawn with initialSnapshot from store.load continues the state', async () => {
    const store = new InMemorySnapshotStore();
    system = createActorSystem({ snapshotStore: store });
    const first = system.spawn('counter', counter({ snapshot: { everyMessages: 100 } }));
    for (let i = 0; i < 3; i++) system.tell(first, inc(1));
    await system.shutdown(); // final snapshot

    system = createActorSystem({ snapshotStore: store });
    const saved = (await store.load('/counter')) as Snapshot;
    expect(saved).toMatchObject({ state: { count: 3 }, sequence: 3 });
    const second = system.spawn('counter', counter({ snapshot: { everyMessages: 1 } }), { initialSnapshot: saved });
    system.tell(second, inc(1));
    expect(await getCount(second)).toBe(4);
    expect(store.get('/counter')).toMatchObject({ state: { count: 4 }, sequence: 5 });
  });

  it('a snapshot restored at spawn is also the restart point until the next snapshot', async () => {
    system = createActorSystem();
    const initialSnapshot: Snapshot = { key: '/counter', version: 1, state: { count: 40 }, sequence: 40, atMs: 0 };
    const ref = system.spawn('counter', counter({ snapshot: { everyMessages: 1_000 } }), {
      initialSnapshot,
      supervision: { strategy: 'restart', maxRestarts: 3, withinMs: 1_000 },
    });
    system.tell(ref, inc(2));
    system.tell(ref, fail());
    expect(await getCount(ref)).toBe(40);
  });
});

describe('graceful stop and shutdown', () => {
  it('shutdown drains mailboxes, writes final snapshots (children first), calls onStop, then refuses intake', async () => {
    const store = new InMemorySnapshotStore();
    system = createActorSystem({ snapshotStore: store });
    const events: SystemEvent[] = [];
    system.onEvent((event) => events.push(event));
    const stopped: string[] = [];
    const ref = system.spawn(
      'book',
      defineBehavior<CounterMessage, number>({
        ...counter(),
        kind: 'book',
        initial: (ctx) => {
          ctx.spawn('child', counter({ snapshot: { everyMessages: 1_000 }, onStop: () => stopped.push('child') }));
          return 0;
        },
        snapshot: { codec: counterCodec, everyMessages: 1_000 },
        onStop: () => stopped.push('book'),
      }),
    );
    const child: ActorRef<CounterMessage> = { path: '/book/child' };
    for (let i = 0; i < 500; i++) {
      system.tell(ref, inc(1));
      system.tell(child, inc(2));
    }
    await system.shutdown();
    expect(store.get('/book')?.state).toEqual({ count: 500 });
    expect(store.get('/book/child')?.state).toEqual({ count: 1000 });
    expect(stopped).toEqual(['child', 'book']);
    expect(system.deadLetters).toBe(0);
    expect(events.filter((event) => event.type === 'ActorStopped').map((event) => [event.path, event.reason])).toEqual([
      ['/book/child', 'shutdown'],
      ['/book', 'shutdown'],
    ]);

    system.tell(ref, inc(1));
    expect(system.deadLetters).toBe(1);
    expect(events.at(-1)).toMatchObject({ type: 'DeadLetter', reason: 'shutting-down' });
    expect(system.health()).toEqual([]);
    await system.shutdown(); // idempotent
  });

  it('shutdown is bounded: an actor that cannot drain is stopped at the timeout, its queue dead-lettered', async () => {
    const clock = createManualClock();
    system = createActorSystem({ clock, timers: clock });
    const ref = system.spawn('stuck', counter());
    system.tell(ref, fail());
    await eventually(() => expect(clock.pendingTimers).toBe(1)); // backing off on manual time, never advanced
    system.tell(ref, inc(1));
    system.tell(ref, inc(1));
    await system.shutdown(30);
    expect(system.deadLetters).toBe(2);
  });

  it('stop(ref) drains what was queued, refuses what comes after, and resolves when stopped', async () => {
    const store = new InMemorySnapshotStore();
    system = createActorSystem({ snapshotStore: store });
    const ref = system.spawn('counter', counter({ snapshot: { everyMessages: 1_000 } }));
    for (let i = 0; i < 100; i++) system.tell(ref, inc(1));
    const stopping = system.stop(ref);
    system.tell(ref, inc(1));
    expect(system.deadLetters).toBe(1);
    await stopping;
    expect(store.get('/counter')?.state).toEqual({ count: 100 });
    expect(system.health()).toEqual([]);
    await system.stop(ref); // stopping a stopped actor is a no-op
  });
});
