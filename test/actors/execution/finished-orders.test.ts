import { describe, expect, it } from 'vitest';
import { SnapshotDecodeError } from '../../../src/actors/core/json-codec.js';
import { decodeExecutionOrders, encodeExecutionOrders } from '../../../src/actors/execution/execution.snapshot.js';
import { FINISHED_CHUNK_ROWS, FinishedOrders, type FinishedChunk } from '../../../src/actors/execution/finished-orders.js';
import { applyOrderUpdate, newOrder, type Order, type OrderIntent } from '../../../src/model/index.js';
import { createRandom } from '../../../src/streams/random.js';

const t0 = Date.parse('2026-05-20T04:00:00Z');

/** A finished order made the way the execution actor's orders are (new, accepted, then filled, cancelled or rejected), with a random mix of optional fields. */
function finishedOrder(n: number, random: () => number): Order {
  const orderType = random() < 0.5 ? 'MARKET' : random() < 0.5 ? 'LIMIT' : 'SL';
  const intent: OrderIntent = {
    type: 'order-intent',
    intentId: `s${n % 3}:${n}`,
    strategyId: `s${n % 3}`,
    portfolioId: random() < 0.5 ? 'p1' : 'p2',
    symbol: ['INFY', 'TCS', 'M&M'][n % 3]!,
    side: random() < 0.5 ? 'BUY' : 'SELL',
    quantity: 1 + Math.floor(random() * 100),
    orderType,
    product: random() < 0.5 ? 'MIS' : 'CNC',
    validity: 'DAY',
    createdAtMs: t0 + n,
    ...(orderType === 'MARKET' ? {} : { limitPricePaise: 150_000 + n * 5 }),
    ...(orderType === 'SL' ? { triggerPricePaise: 149_000 + n * 5 } : {}),
    ...(random() < 0.7 ? { reason: `reason ${n}` } : {}),
    ...(random() < 0.2
      ? {
          explanation: {
            source: 'signal-aggregator',
            summary: `why ${n}`,
            decision: 'BUY',
            signals: [{ strategyId: 'ema', direction: 'long', confidence: 0.25, weight: 0.5, contribution: 0.125, atMs: t0 + n }],
          },
        }
      : {}),
  };
  const placed = newOrder(intent, `C${String(n).padStart(8, '0')}`, t0 + n);
  const open = applyOrderUpdate(placed, { kind: 'accepted', brokerOrderId: `B${n}`, status: 'OPEN', atMs: t0 + n + 1 });
  const outcome = random();
  if (outcome < 0.6) return applyOrderUpdate(open, { kind: 'filled', quantity: open.quantity, pricePaise: 150_000 + n, atMs: t0 + n + 2 });
  if (outcome < 0.9) return applyOrderUpdate(open, { kind: 'cancelled', atMs: t0 + n + 2, reason: `cancelled ${n}` });
  return applyOrderUpdate(placed, { kind: 'rejected', reason: `rejected ${n}`, atMs: t0 + n + 1 });
}

const finishedOrders = (count: number, seed = 7): Order[] => {
  const source = createRandom(seed);
  const random = (): number => source.next();
  return Array.from({ length: count }, (_, n) => finishedOrder(n, random));
};

describe('the finished orders the execution actor keeps', () => {
  it('gives back every order exactly as it was kept: the same fields, absent ones absent, in the same key order', () => {
    const orders = finishedOrders(1_500);
    const archive = FinishedOrders.of(orders, 10_000);
    expect(archive.size).toBe(1_500);
    expect([...archive.values()]).toStrictEqual(orders);
    expect([...archive.values()].map((order) => JSON.stringify(order))).toEqual(orders.map((order) => JSON.stringify(order)));
    for (const order of [orders[0]!, orders[777]!, orders[1_499]!]) expect(archive.get(order.clientOrderId)).toStrictEqual(order);
    expect(archive.get('nobody')).toBeUndefined();
    expect(archive.ids()).toEqual(orders.map((order) => order.clientOrderId));
  });

  it('keeps at least the last `keep` orders, forgetting the oldest a whole chunk at a time, oldest first', () => {
    const keep = 1_000;
    const orders = finishedOrders(3_000);
    const archive = new FinishedOrders(keep);
    const forgotten: Order[] = [];
    const byId = new Map(orders.map((order) => [order.clientOrderId, order]));
    for (const [index, order] of orders.entries()) {
      archive.add(order, (clientOrderId, brokerOrderId) => {
        const gone = byId.get(clientOrderId)!;
        expect(brokerOrderId).toBe(gone.brokerOrderId);
        forgotten.push(gone);
      });
      const added = index + 1;
      // by hand: whole chunks of 512 go once the rest still hold `keep`
      const dropped = Math.max(0, Math.floor((added - keep) / FINISHED_CHUNK_ROWS)) * FINISHED_CHUNK_ROWS;
      expect(archive.size, `after ${added}`).toBe(added - dropped);
    }
    expect(archive.size).toBeGreaterThanOrEqual(keep);
    expect(archive.size).toBeLessThan(keep + FINISHED_CHUNK_ROWS);
    expect(forgotten).toStrictEqual(orders.slice(0, forgotten.length));
    expect(forgotten.length + archive.size).toBe(orders.length);
    expect(archive.has(orders[0]!.clientOrderId)).toBe(false);
    expect(archive.has(orders[forgotten.length]!.clientOrderId)).toBe(true);
    expect([...archive.values()]).toStrictEqual(orders.slice(forgotten.length));
  });

  it('a late update replaces the kept version; a snapshot taken before it keeps the old one (full chunks are shared, never changed)', () => {
    const orders = finishedOrders(FINISHED_CHUNK_ROWS + 10);
    const archive = FinishedOrders.of(orders, 10_000);
    const before = archive.toJson();
    const again = archive.toJson();
    expect(again[0]).toBe(before[0]); // the full chunk is shared
    expect(again[1]).not.toBe(before[1]); // the one being filled is copied
    expect(again[1]).toEqual(before[1]);
    const first = orders[3]!;
    const updated = { ...first, statusMessage: 'a later word from the broker', updatedAtMs: first.updatedAtMs + 5 };
    archive.add(updated, () => {
      throw new Error('nothing is forgotten by a replacement');
    });
    expect(archive.size).toBe(orders.length);
    expect(archive.get(first.clientOrderId)).toEqual(updated);
    expect(before[0]!.statusMessage[3]).toBe(first.statusMessage ?? null);
    expect(archive.toJson()[0]!.statusMessage[3]).toBe('a later word from the broker');
    const last = orders[orders.length - 1]!;
    archive.add({ ...last, updatedAtMs: last.updatedAtMs + 1 });
    expect(before[1]!.updatedAtMs[9]).toBe(last.updatedAtMs);
  });
});

describe("the execution actor's snapshot of its orders", () => {
  const open = (): Order[] => [newOrder({ ...intentOf(finishedOrders(1)[0]!), intentId: 's0:9000' }, 'C-open', t0)];
  const intentOf = (order: Order): OrderIntent => ({
    type: 'order-intent',
    intentId: order.intentId,
    strategyId: order.strategyId,
    portfolioId: order.portfolioId,
    symbol: order.symbol,
    side: order.side,
    quantity: order.quantity,
    orderType: 'MARKET',
    product: order.product,
    validity: order.validity,
    createdAtMs: order.createdAtMs,
  });

  it('comes back from JSON with the same open and finished orders', () => {
    const finished = finishedOrders(1_200);
    const json: unknown = JSON.parse(JSON.stringify(encodeExecutionOrders(open(), FinishedOrders.of(finished))));
    const decoded = decodeExecutionOrders(json);
    expect(decoded.open).toStrictEqual(open());
    expect(decoded.finished).toStrictEqual(finished);
  });

  it('reads the form before chunks (every order, and the finished ids)', () => {
    const finished = finishedOrders(20);
    const json = { orders: [...finished.slice(0, 10), ...open(), ...finished.slice(10)], finished: finished.map((order) => order.clientOrderId) };
    const decoded = decodeExecutionOrders(JSON.parse(JSON.stringify(json)));
    expect(decoded.open).toStrictEqual(open());
    expect(decoded.finished).toStrictEqual(finished);
  });

  it('refuses a chunk whose columns disagree, or a value its schema does not allow, naming where', () => {
    const good = JSON.parse(JSON.stringify(encodeExecutionOrders([], FinishedOrders.of(finishedOrders(5))))) as { finishedChunks: FinishedChunk[] };
    const short = structuredClone(good);
    short.finishedChunks[0]!.reason.pop();
    expect(() => decodeExecutionOrders(short)).toThrow(SnapshotDecodeError);
    expect(() => decodeExecutionOrders(short)).toThrow('/finishedChunks/0/reason has 4 rows, clientOrderId 5');
    const bad = structuredClone(good) as unknown as { finishedChunks: { status: string[] }[] };
    bad.finishedChunks[0]!.status[2] = 'DONE';
    expect(() => decodeExecutionOrders(bad)).toThrow(/finishedChunks\/0\/status\/2/);
  });
});
