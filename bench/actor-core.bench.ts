/**
 * Micro-benchmark of the actor core: messages/s through a 5-actor chain, one `tell` per message
 * versus 256-item inlet batches. Run: npx tsx bench/actor-core.bench.ts
 */

import { type ActorRef, type ActorSystem, createActorSystem, defineBehavior, type Inlet } from '../src/actors/core/index.js';

const CHAIN = 5;

type Single = { readonly type: 'value'; readonly value: number };
type Batch = { readonly type: 'batch'; readonly values: readonly number[] };

async function singleMessages(total: number): Promise<number> {
  const system = createActorSystem({ name: 'bench-single' });
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  let next: ActorRef<Single> | undefined;
  for (let i = CHAIN - 1; i >= 0; i--) {
    const downstream = next;
    next = system.spawn(
      `stage-${i}`,
      defineBehavior<Single, number>({
        kind: 'stage',
        initial: () => 0,
        receive: (count, message) => {
          if (downstream !== undefined) system.tell(downstream, message);
          else if (count + 1 === total) resolveDone();
          return count + 1;
        },
      }),
    );
  }
  const head = next as ActorRef<Single>;
  const started = performance.now();
  for (let i = 0; i < total; i++) system.tell(head, { type: 'value', value: i });
  await done;
  const seconds = (performance.now() - started) / 1000;
  await system.shutdown();
  return total / seconds;
}

async function batchedMessages(total: number, batchSize: number): Promise<{ rate: number; messages: number }> {
  const system: ActorSystem = createActorSystem({ name: 'bench-batched' });
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  let nextInlet: Inlet<number> | undefined;
  let messages = 0;
  for (let i = CHAIN - 1; i >= 0; i--) {
    const downstream = nextInlet;
    const ref = system.spawn(
      `stage-${i}`,
      defineBehavior<Batch, number>({
        kind: 'stage',
        initial: () => 0,
        receive: (count, message) => {
          messages += 1;
          if (downstream !== undefined) for (const value of message.values) downstream.offer(value);
          else if (count + message.values.length === total) resolveDone();
          return count + message.values.length;
        },
      }),
    );
    nextInlet = system.inlet<number, Batch>(ref, (values) => ({ type: 'batch', values }));
  }
  const head = nextInlet as Inlet<number>;
  const started = performance.now();
  for (let sent = 0; sent < total;) {
    for (let j = 0; j < batchSize && sent < total; j++, sent++) head.offer(sent);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await done;
  const seconds = (performance.now() - started) / 1000;
  await system.shutdown();
  return { rate: total / seconds, messages };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

const singleTotal = 200_000;
const batchTotal = 2_000_000;
await singleMessages(20_000); // warm-up
await batchedMessages(100_000, 256);
const single = await singleMessages(singleTotal);
const batched = await batchedMessages(batchTotal, 256);
console.log(`5-actor chain, single tells:      ${fmt(single)} msgs/s end-to-end (${fmt(single * CHAIN)} actor-deliveries/s)`);
console.log(
  `5-actor chain, 256-item batches:  ${fmt(batched.rate)} items/s end-to-end (${fmt(batched.rate * CHAIN)} item-deliveries/s, ${fmt(batched.messages)} batch messages)`,
);
