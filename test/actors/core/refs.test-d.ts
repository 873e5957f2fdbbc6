import pino from 'pino';
import { describe, expectTypeOf, it } from 'vitest';
import {
  type ActorRef,
  type ActorSystem,
  type Behavior,
  createActorSystem,
  defineBehavior,
  type Logger,
  receiveByType,
} from '../../../src/actors/core/index.js';

type OrderCommand = { readonly type: 'submit'; readonly qty: number } | { readonly type: 'cancel'; readonly orderId: string };
type TickMessage = { readonly type: 'tick'; readonly price: number };

declare const system: ActorSystem;
declare const orders: ActorRef<OrderCommand>;
declare const ticks: ActorRef<TickMessage>;
declare const wide: ActorRef<OrderCommand | TickMessage>;
type Get = { readonly type: 'get'; readonly replyTo: ActorRef<number> };
declare const counter: ActorRef<Get>;

describe('typed refs', () => {
  it('refs of different protocols are not assignable to each other', () => {
    // @ts-expect-error an order ref is not a tick ref
    const wrong: ActorRef<TickMessage> = orders;
    // @ts-expect-error and the other way round
    const alsoWrong: ActorRef<OrderCommand> = ticks;
    expectTypeOf(orders).not.toEqualTypeOf(ticks);
    void wrong;
    void alsoWrong;
  });

  it('a ref accepting a wider protocol may stand in for a narrower one (contravariance), not vice versa', () => {
    const narrow: ActorRef<TickMessage> = wide;
    // @ts-expect-error a tick-only ref cannot accept order commands
    const widened: ActorRef<OrderCommand | TickMessage> = ticks;
    void narrow;
    void widened;
  });

  it('telling a message of the wrong protocol does not compile', () => {
    system.tell(orders, { type: 'submit', qty: 1 });
    // @ts-expect-error a tick is not an order command
    system.tell(orders, { type: 'tick', price: 1 });
    // @ts-expect-error missing field
    system.tell(orders, { type: 'submit' });
  });

  it('ask infers the reply type from the protocol or from replyTo', () => {
    expectTypeOf(system.ask(counter, (replyTo) => ({ type: 'get', replyTo }), 100)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(system.ask(counter, (replyTo: ActorRef<number>) => ({ type: 'get', replyTo }), 100)).toEqualTypeOf<Promise<number>>();
    // @ts-expect-error the request must belong to the target's protocol
    void system.ask(counter, (replyTo) => ({ type: 'got', replyTo }), 100);
    // @ts-expect-error replyTo must accept the reply type the request declares
    void system.ask(counter, (replyTo: ActorRef<string>) => ({ type: 'get', replyTo }), 100);
  });

  it('spawn returns a ref of the behavior protocol; stop and injectFault accept any ref', () => {
    const behavior: Behavior<TickMessage, number> = defineBehavior<TickMessage, number>({
      kind: 'tick',
      initial: () => 0,
      receive: (state, message) => state + message.price,
    });
    const real = createActorSystem();
    const ref = real.spawn('ticks', behavior);
    expectTypeOf(ref).toEqualTypeOf<ActorRef<TickMessage>>();
    void real.stop(ref);
    real.injectFault(orders);
  });
});

describe('exhaustive handlers', () => {
  it('a handler map must cover every message type', () => {
    receiveByType<OrderCommand, number>({
      submit: (state, message) => state + message.qty,
      cancel: (state, message) => {
        expectTypeOf(message).toEqualTypeOf<{ readonly type: 'cancel'; readonly orderId: string }>();
        return state;
      },
    });
    // @ts-expect-error 'cancel' is not handled
    receiveByType<OrderCommand, number>({ submit: (state) => state });
  });

  it('behaviors are object literals: a misspelled hook is an error', () => {
    defineBehavior<TickMessage, number>({
      kind: 'tick',
      initial: () => 0,
      receive: (state) => state,
      // @ts-expect-error there is no onStopped hook
      onStopped: () => undefined,
    });
  });
});

describe('logger', () => {
  it('a pino logger is a Logger', () => {
    const logger: Logger = pino({ level: 'silent' });
    expectTypeOf(logger.info).toBeFunction();
  });
});
