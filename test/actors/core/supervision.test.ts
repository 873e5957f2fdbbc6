import { afterEach, describe, expect, it } from 'vitest';
import {
  type ActorContext,
  type ActorHealth,
  type ActorRef,
  type ActorSystem,
  createActorSystem,
  createManualClock,
  defineBehavior,
  EscalatedFailure,
  eventually,
  InjectedFault,
  InMemorySnapshotStore,
  type ManualClock,
  type SupervisionPolicy,
  type SystemEvent,
} from '../../../src/actors/core/index.js';
import { type CounterMessage, counter, fail, inc } from './fixtures.js';

let system: ActorSystem;
let events: SystemEvent[];

afterEach(async () => {
  await system.shutdown(1000);
});

function start(clock?: ManualClock): void {
  system = createActorSystem(clock === undefined ? {} : { clock, timers: clock });
  events = [];
  system.onEvent((event) => events.push(event));
}

const getCount = (ref: ActorRef<CounterMessage>): Promise<number> => system.ask<CounterMessage, number>(ref, (replyTo) => ({ type: 'get', replyTo }), 2000);

function find(path: string, tree: ActorHealth[] = system.health()): ActorHealth | undefined {
  for (const node of tree) {
    if (node.path === path) return node;
    const below = find(path, node.children);
    if (below !== undefined) return below;
  }
  return undefined;
}

const ofType = <T extends SystemEvent['type']>(type: T): Extract<SystemEvent, { type: T }>[] =>
  events.filter((event): event is Extract<SystemEvent, { type: T }> => event.type === type);

const noBackoffRestart: SupervisionPolicy = { strategy: 'restart', maxRestarts: 10, withinMs: 60_000 };

describe('restart', () => {
  it('restores the last snapshot (not zero) after exponential backoff; messages queue meanwhile', async () => {
    const clock = createManualClock(1_000);
    start(clock);
    const ref = system.spawn('counter', counter({ snapshot: { everyMessages: 2 } }), {
      supervision: { strategy: 'restart', maxRestarts: 5, withinMs: 60_000, backoff: { minMs: 100, maxMs: 1_000, factor: 3 } },
    });
    for (let i = 0; i < 5; i++) system.tell(ref, inc(1)); // snapshots after 2 and 4 → last snapshot = 4
    system.tell(ref, fail('first'));
    await eventually(() => expect(clock.pendingTimers).toBe(1));
    expect(clock.nextTimerInMs()).toBe(100);
    expect(find('/counter')).toMatchObject({ status: 'restarting', failures: 1, restarts: 0, lastError: { message: 'first' } });
    system.tell(ref, inc(10)); // queues while backing off
    expect(find('/counter')?.mailboxDepth).toBe(1);

    clock.advance(100);
    expect(await getCount(ref)).toBe(14); // 4 from the snapshot + 10: the unsnapshotted 5th increment is lost
    expect(find('/counter')).toMatchObject({ status: 'running', restarts: 1 });
    expect(ofType('ActorRestarted')).toEqual([expect.objectContaining({ path: '/counter', restarts: 1, backoffMs: 100, restoredFromSequence: 4 })]);

    system.tell(ref, fail('second'));
    await eventually(() => expect(clock.pendingTimers).toBe(1));
    expect(clock.nextTimerInMs()).toBe(300); // 100 * 3^1
    clock.advance(300);
    expect(await getCount(ref)).toBe(14); // snapshot taken at sequence 6 (4 + increment + get)
  });

  it('restarts from scratch when the behavior has no snapshots', async () => {
    start();
    const ref = system.spawn('counter', counter(), { supervision: noBackoffRestart });
    system.tell(ref, inc(3));
    system.tell(ref, fail());
    expect(await getCount(ref)).toBe(0);
  });

  it('a failing initial is supervised too and retried on restart', async () => {
    start();
    let attempts = 0;
    const ref = system.spawn(
      'flaky',
      counter({
        initial: () => {
          attempts += 1;
          if (attempts === 1) throw new Error('not yet');
        },
      }),
      { supervision: noBackoffRestart },
    );
    system.tell(ref, inc(2)); // not lost: it waits for the restart
    expect(await getCount(ref)).toBe(2);
    expect(attempts).toBe(2);
    expect(ofType('ActorFailed')[0]).toMatchObject({ path: '/flaky', directive: 'restart', errorMessage: 'initial state of /flaky failed: not yet' });
  });

  it('injectFault makes the actor fail when it processes the fault', async () => {
    start();
    const ref = system.spawn('counter', counter({ snapshot: { everyMessages: 1 } }), { supervision: noBackoffRestart });
    system.tell(ref, inc(5));
    system.injectFault(ref, 'chaos monkey');
    system.tell(ref, inc(1));
    expect(await getCount(ref)).toBe(6);
    const failed = ofType('ActorFailed');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.error).toBeInstanceOf(InjectedFault);
    expect(failed[0]?.errorMessage).toBe('chaos monkey');
    system.injectFault('/nobody');
    expect(system.deadLetters).toBe(1);
  });
});

describe('resume and stop', () => {
  it('resume drops the failing message and keeps the state', async () => {
    start();
    const ref = system.spawn('counter', counter(), { supervision: { strategy: 'resume' } });
    system.tell(ref, inc(3));
    system.tell(ref, fail());
    system.tell(ref, inc(1));
    expect(await getCount(ref)).toBe(4);
    expect(find('/counter')).toMatchObject({ failures: 1, restarts: 0, status: 'running' });
    expect(ofType('ActorFailed')).toEqual([expect.objectContaining({ directive: 'resume' })]);
  });

  it('stop stops the actor; what was queued and later messages are dead letters; it stays listed as stopped', async () => {
    start();
    const ref = system.spawn('counter', counter(), { supervision: { strategy: 'stop' } });
    system.tell(ref, fail());
    system.tell(ref, inc(1));
    await eventually(() => expect(ofType('ActorStopped')).toEqual([expect.objectContaining({ path: '/counter', reason: 'supervision' })]));
    expect(system.deadLetters).toBe(1); // the increment queued behind the failure
    system.tell(ref, inc(1));
    expect(system.deadLetters).toBe(2);
    expect(find('/counter')).toMatchObject({ status: 'stopped', failures: 1, lastError: { message: 'boom' } });
  });
});

/** A parent that spawns children in `initial` (so it re-creates them on restart). */
type ParentMessage = { readonly type: 'children'; readonly replyTo: ActorRef<readonly ActorRef<CounterMessage>[]> };

function parent(childPolicies: Record<string, SupervisionPolicy>, spawned: string[] = []) {
  return defineBehavior<ParentMessage, readonly ActorRef<CounterMessage>[]>({
    kind: 'parent',
    initial: (ctx: ActorContext<ParentMessage>) =>
      Object.entries(childPolicies).map(([name, supervision]) => {
        spawned.push(name);
        return ctx.spawn(name, counter(), { supervision });
      }),
    receive: (children, message, ctx) => {
      ctx.system.tell(message.replyTo, children);
      return children;
    },
  });
}

describe('escalate', () => {
  it('escalate: the parent fails and restarts, re-creating its children', async () => {
    start();
    const spawned: string[] = [];
    system.spawn('parent', parent({ worker: { strategy: 'escalate' } }, spawned), { supervision: noBackoffRestart });
    const worker: ActorRef<CounterMessage> = { path: '/parent/worker' };
    system.tell(worker, inc(5));
    expect(await getCount(worker)).toBe(5);
    system.tell(worker, fail('worker broke'));
    await eventually(() => expect(find('/parent')?.restarts).toBe(1));
    expect(await getCount(worker)).toBe(0); // a fresh incarnation, reached through the same path
    expect(spawned).toEqual(['worker', 'worker']);
    const failed = ofType('ActorFailed');
    expect(failed.map((event) => [event.path, event.directive])).toEqual([
      ['/parent/worker', 'escalate'],
      ['/parent', 'restart'],
    ]);
    expect(failed[1]?.error).toBeInstanceOf(EscalatedFailure);
    expect(ofType('ActorStopped')).toEqual([expect.objectContaining({ path: '/parent/worker', reason: 'parent-restarted' })]);
  });

  it('a parent that resumes after an escalation resumes the child with its state', async () => {
    start();
    system.spawn('parent', parent({ worker: { strategy: 'escalate' } }), { supervision: { strategy: 'resume' } });
    const worker: ActorRef<CounterMessage> = { path: '/parent/worker' };
    system.tell(worker, inc(5));
    system.tell(worker, fail());
    system.tell(worker, inc(1));
    expect(await getCount(worker)).toBe(6);
    expect(find('/parent')).toMatchObject({ failures: 1, restarts: 0 });
    expect(find('/parent/worker')).toMatchObject({ failures: 1, status: 'running' });
  });

  it('restart limit exceeded escalates to the parent (here: the parent stops, taking the child)', async () => {
    start();
    system.spawn('parent', parent({ worker: { strategy: 'restart', maxRestarts: 2, withinMs: 60_000 } }), {
      supervision: { strategy: 'stop' },
    });
    const worker: ActorRef<CounterMessage> = { path: '/parent/worker' };
    for (let i = 0; i < 3; i++) system.tell(worker, fail(`failure ${i}`));
    await eventually(() => expect(ofType('ActorStopped')).toHaveLength(2));
    expect(ofType('ActorFailed').map((event) => [event.path, event.directive, event.restartLimitExceeded])).toEqual([
      ['/parent/worker', 'restart', false],
      ['/parent/worker', 'restart', false],
      ['/parent/worker', 'escalate', true],
      ['/parent', 'stop', false],
    ]);
    expect(ofType('ActorStopped').map((event) => [event.path, event.reason])).toEqual([
      ['/parent/worker', 'parent-stopped'],
      ['/parent', 'supervision'],
    ]);
    expect(find('/parent')?.status).toBe('stopped');
  });

  it('at the top level, escalation (or an exceeded limit) stops the actor and reports it', async () => {
    start();
    const ref = system.spawn('counter', counter(), { supervision: { strategy: 'restart', maxRestarts: 1, withinMs: 60_000 } });
    system.tell(ref, fail('one'));
    system.tell(ref, fail('two'));
    await eventually(() => expect(ofType('ActorStopped')).toEqual([expect.objectContaining({ path: '/counter', reason: 'escalated' })]));
    expect(ofType('ActorFailed').at(-1)).toMatchObject({ directive: 'escalate', restartLimitExceeded: true, errorMessage: 'two' });
    expect(find('/counter')).toMatchObject({ status: 'stopped', restarts: 1, failures: 2, lastError: { message: 'two' } });
  });

  it('the restart window forgets old restarts', async () => {
    const clock = createManualClock();
    start(clock);
    const ref = system.spawn('counter', counter(), { supervision: { strategy: 'restart', maxRestarts: 1, withinMs: 1_000 } });
    system.tell(ref, fail());
    await eventually(() => expect(find('/counter')?.restarts).toBe(1));
    clock.advance(1_001);
    system.tell(ref, fail());
    await eventually(() => expect(find('/counter')?.restarts).toBe(2));
    expect(find('/counter')?.status).toBe('running');
  });
});

describe('isolation', () => {
  it('a crashing child leaves its siblings untouched: they keep processing and keep their state', async () => {
    start();
    const generous: SupervisionPolicy = { strategy: 'restart', maxRestarts: 100, withinMs: 60_000 };
    system.spawn('parent', parent({ flaky: generous, steady: generous }));
    const flaky: ActorRef<CounterMessage> = { path: '/parent/flaky' };
    const steady: ActorRef<CounterMessage> = { path: '/parent/steady' };
    for (let i = 0; i < 20; i++) {
      system.tell(steady, inc(1));
      system.tell(flaky, fail());
    }
    expect(await getCount(steady)).toBe(20);
    await eventually(() => expect(find('/parent/flaky')?.restarts).toBe(20));
    expect(find('/parent/steady')).toMatchObject({ failures: 0, restarts: 0, processed: 21 });
    expect(find('/parent')).toMatchObject({ failures: 0, restarts: 0 });
  });

  it('a restarted parent writes final snapshots of the children it stops', async () => {
    const store = new InMemorySnapshotStore();
    system = createActorSystem({ snapshotStore: store });
    events = [];
    const stopped: number[] = [];
    system.spawn(
      'parent',
      defineBehavior<ParentMessage | { readonly type: 'fail' }, null>({
        kind: 'parent',
        initial: (ctx) => {
          ctx.spawn('child', counter({ snapshot: { everyMessages: 1_000 }, onStop: (count) => stopped.push(count) }));
          return null;
        },
        receive: (state, message) => {
          if (message.type === 'fail') throw new Error('parent broke');
          return state;
        },
      }),
      { supervision: noBackoffRestart },
    );
    const child: ActorRef<CounterMessage> = { path: '/parent/child' };
    system.tell(child, inc(4));
    expect(await getCount(child)).toBe(4);
    system.tell<ParentMessage | { readonly type: 'fail' }>({ path: '/parent' }, { type: 'fail' });
    await eventually(() => expect(stopped).toEqual([4]));
    expect(store.get('/parent/child')?.state).toEqual({ count: 4 });
  });
});
