/** Helpers for writing behaviors with exhaustive, typed message handling. */

import type { ActorContext, Behavior, SupervisionPolicy } from './types.js';

/**
 * Identity helper that fixes `M` and `S` for a behavior object literal, so a misspelled hook is a
 * compile error and `receive` is checked against the protocol.
 */
export function defineBehavior<M, S>(behavior: Behavior<M, S>): Behavior<M, S> {
  return behavior;
}

/** A handler for one message variant `T` of a protocol. */
export type MessageHandler<S, T, M> = (state: S, message: T, ctx: ActorContext<M>) => S;

/**
 * A handler per `type` of the protocol union `M`: every variant must be present (a missing one
 * does not compile) and each handler receives the narrowed message.
 */
export type HandlerMap<M extends { readonly type: string }, S> = {
  readonly [K in M['type']]: MessageHandler<S, Extract<M, { readonly type: K }>, M>;
};

/**
 * Builds a `receive` function from an exhaustive handler map keyed by the message `type`.
 * @example receive: receiveByType<CounterMessage, number>({ increment: (n) => n + 1, get: (n, m) => ... })
 */
export function receiveByType<M extends { readonly type: string }, S>(handlers: HandlerMap<M, S>): (state: S, message: M, ctx: ActorContext<M>) => S {
  const table = handlers as unknown as Record<string, MessageHandler<S, M, M> | undefined>;
  return (state, message, ctx) => {
    const handler = table[message.type];
    if (handler === undefined) throw new TypeError(`no handler for message type ${message.type}`);
    return handler(state, message, ctx);
  };
}

/** For the `default:` branch of an exhaustive `switch`: fails to compile when a variant is unhandled. */
export function assertNever(value: never, what = 'value'): never {
  throw new TypeError(`unexpected ${what}: ${JSON.stringify(value)}`);
}

/** The supervision the core applies when `SpawnOptions.supervision` is absent. */
export const DEFAULT_SUPERVISION: SupervisionPolicy = {
  strategy: 'restart',
  maxRestarts: 10,
  withinMs: 60_000,
  backoff: { minMs: 10, maxMs: 1_000, factor: 2 },
};

/** Backoff before the next restart, given how many restarts already happened inside the window. */
export function backoffDelayMs(policy: SupervisionPolicy, restartsInWindow: number): number {
  if (policy.strategy !== 'restart' || policy.backoff === undefined) return 0;
  const { minMs, maxMs, factor = 2 } = policy.backoff;
  return Math.min(maxMs, minMs * factor ** restartsInWindow);
}
