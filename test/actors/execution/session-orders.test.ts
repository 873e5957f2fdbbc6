import { describe, expect, it } from 'vitest';
import { newOrder, type Order, type OrderStatus } from '../../../src/model/index.js';
import { KEEP_FINISHED_ORDERS } from '../../../src/actors/execution/execution.snapshot.js';
import { rememberOrder, type SessionOrders } from '../../../src/actors/execution/session-orders.js';
import { intent } from '../../support/builders.js';

const order = (n: number, status: OrderStatus = 'OPEN'): Order => ({ ...newOrder(intent({ intentId: `s1:${n}` }), `C${n}`, 0), status });

describe('the session orders the execution actor keeps', () => {
  it('keeps open orders and the latest version of each; finished ones join the list once', () => {
    const book: SessionOrders = { orders: new Map(), finished: [] };
    expect(rememberOrder(book, order(1))).toBeUndefined();
    expect(rememberOrder(book, order(1, 'COMPLETE'))).toBeUndefined();
    // a second finished version (a late update) does not count twice
    expect(rememberOrder(book, order(1, 'COMPLETE'))).toBeUndefined();
    expect(rememberOrder(book, order(2))).toBeUndefined();
    expect(book.finished).toEqual(['C1']);
    expect([...book.orders.values()].map((o) => [o.clientOrderId, o.status])).toEqual([
      ['C1', 'COMPLETE'],
      ['C2', 'OPEN'],
    ]);
  });

  it('forgets the oldest finished orders once twice the kept number have finished, never an open one', () => {
    const book: SessionOrders = { orders: new Map(), finished: [] };
    rememberOrder(book, order(0)); // stays open throughout
    const forgotten: string[] = [];
    const total = KEEP_FINISHED_ORDERS * 2 + 10;
    for (let n = 1; n <= total; n += 1) {
      rememberOrder(book, order(n));
      const gone = rememberOrder(book, order(n, n % 3 === 0 ? 'CANCELLED' : 'COMPLETE'));
      if (gone) forgotten.push(...gone.map((o) => o.clientOrderId));
    }
    // the trim happens once, when the 10,000th finishes: the oldest 5,000 go, in order
    expect(forgotten).toEqual(Array.from({ length: KEEP_FINISHED_ORDERS }, (_, i) => `C${i + 1}`));
    const kept = total - KEEP_FINISHED_ORDERS;
    expect(book.finished).toHaveLength(kept);
    expect(book.finished[0]).toBe(`C${KEEP_FINISHED_ORDERS + 1}`);
    expect(book.orders.size).toBe(kept + 1);
    expect(book.orders.get('C0')?.status).toBe('OPEN');
    expect(book.orders.has(`C${KEEP_FINISHED_ORDERS}`)).toBe(false);
  });
});
