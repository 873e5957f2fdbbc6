import { afterEach, describe, expect, it } from 'vitest';
import {
  type ActorRef,
  type ActorSystem,
  AskTimeoutError,
  createActorSystem,
  createManualClock,
  createProbe,
  DeadLetterError,
  defineBehavior,
  eventually,
  type SystemEvent,
} from '../../../src/actors/core/index.js';
import { type CounterMessage, counter, inc } from './fixtures.js';

let system: ActorSystem;

afterEach(async () => {
  await system.shutdown();
});

// The reply type (number) is inferred from the protocol's replyTo.
const getCount = (ref: ActorRef<CounterMessage>): Promise<number> => system.ask(ref, (replyTo) => ({ type: 'get', replyTo }), 1000);

describe('tell and ask', () => {
  it('processes told messages in order and replies to replyTo', async () => {
    system = createActorSystem();
    const ref = system.spawn('counter', counter());
    const probe = createProbe<number>(system);
    system.tell(ref, inc(2));
    system.tell(ref, inc(3));
    system.tell(ref, { type: 'get', replyTo: probe.ref });
    expect(await probe.expectMessage()).toBe(5);
    await probe.expectNoMessage();
  });

  it('ask resolves with the reply', async () => {
    system = createActorSystem();
    const ref = system.spawn('counter', counter());
    system.tell(ref, inc(7));
    expect(await getCount(ref)).toBe(7);
  });

  it('ask rejects with AskTimeoutError when no reply comes (manual time)', async () => {
    const clock = createManualClock();
    system = createActorSystem({ clock, timers: clock });
    const ref = system.spawn('counter', counter());
    const asked = system.ask<CounterMessage, number>(ref, () => ({ type: 'ignore' }), 500);
    clock.advance(499);
    await eventually(() => expect(system.health()[0]?.processed).toBe(1));
    clock.advance(1);
    await expect(asked).rejects.toBeInstanceOf(AskTimeoutError);
    await expect(asked).rejects.toMatchObject({ code: 'ASK_TIMEOUT', path: '/counter', timeoutMs: 500 });
  });

  it('a late reply to a completed ask is a dead letter', async () => {
    const clock = createManualClock();
    system = createActorSystem({ clock, timers: clock });
    let captured: ActorRef<number> | undefined;
    const ref = system.spawn('counter', counter());
    const asked = system.ask<CounterMessage, number>(
      ref,
      (replyTo) => {
        captured = replyTo;
        return { type: 'ignore' };
      },
      100,
    );
    clock.advance(100);
    await expect(asked).rejects.toBeInstanceOf(AskTimeoutError);
    system.tell(captured!, 42);
    expect(system.deadLetters).toBe(1);
  });

  it('ask to a stopped actor rejects at once with DeadLetterError', async () => {
    system = createActorSystem();
    const ref = system.spawn('counter', counter());
    await system.stop(ref);
    await expect(getCount(ref)).rejects.toBeInstanceOf(DeadLetterError);
    expect(system.deadLetters).toBe(1);
  });

  it('pipeToSelf delivers async results as messages, success and failure', async () => {
    type Message =
      | { readonly type: 'load'; readonly value: number | 'fail' }
      | { readonly type: 'loaded'; readonly value: number }
      | { readonly type: 'loadFailed'; readonly error: string };
    system = createActorSystem();
    const probe = createProbe<Message>(system);
    const ref = system.spawn(
      'loader',
      defineBehavior<Message, null>({
        kind: 'loader',
        initial: () => null,
        receive: (state, message, ctx) => {
          switch (message.type) {
            case 'load':
              ctx.pipeToSelf(message.value === 'fail' ? Promise.reject(new Error('io down')) : Promise.resolve(message.value), (result) =>
                result.ok ? { type: 'loaded', value: result.value } : { type: 'loadFailed', error: String(result.error) },
              );
              return state;
            case 'loaded':
            case 'loadFailed':
              ctx.system.tell(probe.ref, message);
              return state;
          }
        },
      }),
    );
    system.tell(ref, { type: 'load', value: 5 });
    expect(await probe.expectMessage()).toEqual({ type: 'loaded', value: 5 });
    system.tell(ref, { type: 'load', value: 'fail' });
    expect(await probe.expectMessage()).toEqual({ type: 'loadFailed', error: 'Error: io down' });
  });

  it('a handler that returns a promise is a failure (handlers must be synchronous)', async () => {
    system = createActorSystem();
    const events: SystemEvent[] = [];
    system.onEvent((event) => events.push(event));
    const ref = system.spawn(
      'async',
      defineBehavior<{ readonly type: 'go' }, unknown>({
        kind: 'async',
        initial: () => 0,
        receive: () => Promise.resolve(1),
      }),
      { supervision: { strategy: 'resume' } },
    );
    system.tell(ref, { type: 'go' });
    await eventually(() => expect(events).toContainEqual(expect.objectContaining({ type: 'ActorFailed', directive: 'resume' })));
  });

  it('refs passed in messages let actors talk to each other (path-addressed after re-creation)', async () => {
    system = createActorSystem();
    const first = system.spawn('counter', counter());
    system.tell(first, inc(1));
    await system.stop(first);
    const second = system.spawn('counter', counter());
    system.tell(first, inc(10)); // the old ref names the same path
    expect(await getCount(second)).toBe(10);
  });
});

describe('dead letters', () => {
  it('a message after stop is counted, published and never silent', async () => {
    system = createActorSystem();
    const events: SystemEvent[] = [];
    const deadLetters: unknown[] = [];
    system.onEvent((event) => events.push(event));
    system.onDeadLetter((event) => deadLetters.push(event.message));
    const ref = system.spawn('counter', counter());
    await system.stop(ref);
    system.tell(ref, inc(1));
    expect(system.deadLetters).toBe(1);
    expect(deadLetters).toEqual([inc(1)]);
    expect(events).toContainEqual(expect.objectContaining({ type: 'DeadLetter', path: '/counter', reason: 'stopped', count: 1 }));
    expect(events).toContainEqual(expect.objectContaining({ type: 'ActorStopped', path: '/counter', reason: 'requested' }));
  });

  it('a message to a path nobody lives at is a dead letter', () => {
    system = createActorSystem();
    const events: SystemEvent[] = [];
    system.onEvent((event) => events.push(event));
    system.tell<CounterMessage>({ path: '/nobody' }, inc(1));
    expect(system.deadLetters).toBe(1);
    expect(events).toEqual([expect.objectContaining({ type: 'DeadLetter', path: '/nobody', reason: 'unknown' })]);
  });

  it('a throwing event listener does not break delivery', async () => {
    system = createActorSystem();
    system.onEvent(() => {
      throw new Error('listener bug');
    });
    const ref = system.spawn('counter', counter());
    system.tell<CounterMessage>({ path: '/nobody' }, inc(1));
    system.tell(ref, inc(1));
    expect(await getCount(ref)).toBe(1);
  });

  it('unsubscribed listeners get nothing', () => {
    system = createActorSystem();
    const seen: SystemEvent[] = [];
    const unsubscribe = system.onEvent((event) => seen.push(event));
    unsubscribe();
    system.tell<CounterMessage>({ path: '/nobody' }, inc(1));
    expect(seen).toEqual([]);
  });
});

describe('spawn', () => {
  it('rejects duplicate and invalid names', () => {
    system = createActorSystem();
    system.spawn('counter', counter());
    expect(() => system.spawn('counter', counter())).toThrow(/already exists/);
    expect(() => system.spawn('a/b', counter())).toThrow(/invalid actor name/);
    expect(() => system.spawn('', counter())).toThrow(/invalid actor name/);
  });

  it('refuses to spawn after shutdown began', async () => {
    system = createActorSystem();
    await system.shutdown();
    expect(() => system.spawn('late', counter())).toThrow(/shutting down/);
  });
});

describe('actor names', () => {
  it('takes names nact would refuse (NSE symbols such as M&M) and keeps them readable in paths', async () => {
    const system = createActorSystem();
    const ref = system.spawn<{ readonly type: 'ping'; readonly replyTo: ActorRef<string> }, null>('M&M', {
      kind: 'test',
      initial: () => null,
      receive: (state, message, ctx) => {
        ctx.system.tell(message.replyTo, ctx.path);
        return state;
      },
    });
    await expect(system.ask(ref, (replyTo) => ({ type: 'ping', replyTo }), 1000)).resolves.toBe('/M&M');
    expect(system.health().map((node) => node.path)).toContain('/M&M');
    await system.shutdown();
  });
});
