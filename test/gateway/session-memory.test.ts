import { describe, expect, it } from 'vitest';
import type { Order } from '../../src/model/index.js';
import { SessionHistory } from '../../src/gateway/session-history.js';
import { SNAPSHOT_ORDERS, SessionStore } from '../../src/gateway/session-store.js';
import { fill, order } from '../model/fixtures.js';

describe('what the gateway keeps of a session in memory', () => {
  it('the session history keeps the last fills only: trades and strategy books are of those', async () => {
    const history = new SessionHistory({ orders: () => Promise.resolve<Order[]>([]) }, { fillCapacity: 10 });
    const made = Array.from({ length: 25 }, (_, n) => fill({ fillId: `F${String(n).padStart(2, '0')}`, atMs: 1_000 + n, quantity: n + 1 }));
    for (const each of made) history.addFill(each);

    const page = await history.trades({}, { limit: 100 });
    expect(page.items.map((item) => item.fillId)).toEqual(
      made
        .slice(15)
        .reverse()
        .map((item) => item.fillId),
    );
    const firstPage = await history.trades({}, { limit: 4 });
    const rest = await history.trades({}, { limit: 100, after: firstPage.next! });
    expect([...firstPage.items, ...rest.items]).toEqual(page.items);

    const books = await history.strategyBooks();
    // quantities 16..25 bought (fills 15..24 are kept): 205 shares
    expect(books.items).toHaveLength(1);
    expect(books.items[0]!.fills).toBe(10);
    expect(books.items[0]!.buyQuantity).toBe(205);
    expect(books.recentFillIds).toEqual(made.slice(15).map((item) => item.fillId));
  });

  it('the session store keeps the latest version of the most recently changed orders a snapshot carries', () => {
    const store = new SessionStore();
    for (let n = 0; n < SNAPSHOT_ORDERS + 100; n += 1) store.updateOrder(order({}, `C${n}`, n));
    store.updateOrder({ ...order({}, 'C3', 3), status: 'COMPLETE' }); // an old order changes: it is recent again
    const recent = store.recentOrders();
    expect(recent).toHaveLength(SNAPSHOT_ORDERS);
    expect(recent.at(-1)).toMatchObject({ clientOrderId: 'C3', status: 'COMPLETE' });
    expect(recent[0]!.clientOrderId).toBe('C101');
    expect(store.recentOrders(2).map((each) => each.clientOrderId)).toEqual([`C${SNAPSHOT_ORDERS + 99}`, 'C3']);
  });
});
