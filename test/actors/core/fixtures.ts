/** Behaviors shared by the actor-core tests. */

import {
  type ActorRef,
  type Behavior,
  defineBehavior,
  type Json,
  receiveByType,
  type SnapshotSettings,
  type StateCodec,
} from '../../../src/actors/core/index.js';

/** Protocol of the test counter. */
export type CounterMessage =
  | { readonly type: 'increment'; readonly by: number }
  | { readonly type: 'get'; readonly replyTo: ActorRef<number> }
  | { readonly type: 'fail'; readonly reason: string }
  | { readonly type: 'ignore' };

/** Counter state is a plain number; version 1 encodes it as `{ count }`. */
export const counterCodec: StateCodec<number> = {
  version: 1,
  encode: (count) => ({ count }),
  decode: (json: Json) => {
    if (typeof json !== 'object' || json === null || Array.isArray(json) || typeof json.count !== 'number') {
      throw new TypeError('bad counter snapshot');
    }
    return json.count;
  },
};

/** A counter actor; `fail` throws (a real failure, for supervision). */
export function counter(
  options: { readonly snapshot?: Omit<SnapshotSettings<number>, 'codec'>; readonly onStop?: (count: number) => void; readonly initial?: () => void } = {},
): Behavior<CounterMessage, number> {
  return defineBehavior<CounterMessage, number>({
    kind: 'counter',
    initial: (_ctx, restored) => {
      options.initial?.();
      return restored ?? 0;
    },
    receive: receiveByType<CounterMessage, number>({
      increment: (count, message) => count + message.by,
      get: (count, message, ctx) => {
        ctx.system.tell(message.replyTo, count);
        return count;
      },
      fail: (_count, message) => {
        throw new Error(message.reason);
      },
      ignore: (count) => count,
    }),
    ...(options.snapshot === undefined ? {} : { snapshot: { codec: counterCodec, ...options.snapshot } }),
    ...(options.onStop === undefined ? {} : { onStop: options.onStop }),
  });
}

/** Increment message. */
export const inc = (by = 1): CounterMessage => ({ type: 'increment', by });
/** Failure message. */
export const fail = (reason = 'boom'): CounterMessage => ({ type: 'fail', reason });
