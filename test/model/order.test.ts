import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  applyOrderUpdate,
  clientOrderIdFor,
  isTerminal,
  OrderTransitionError,
  orderAveragePricePaise,
  pendingQuantity,
  type Order,
  type OrderStatus,
  type OrderUpdate,
} from '../../src/model/order.js';
import { amended } from '../../src/model/amended.js';
import { order } from './fixtures.js';

const accepted = (o: Order = order({ quantity: 10, orderType: 'LIMIT', limitPricePaise: 100_00 })): Order =>
  applyOrderUpdate(o, { kind: 'accepted', brokerOrderId: 'B1', status: 'OPEN', atMs: 2 });

const withStatus = (status: OrderStatus): Order => ({ ...order(), status });

const acceptedUpdate = { kind: 'accepted', brokerOrderId: 'B1', status: 'OPEN', atMs: 5 } as const;
const acceptedPending = { ...acceptedUpdate, status: 'TRIGGER PENDING' } as const;

const updates: Record<OrderUpdate['kind'], OrderUpdate> = {
  accepted: acceptedUpdate,
  rejected: { kind: 'rejected', reason: 'no', atMs: 5 },
  filled: { kind: 'filled', quantity: 1, pricePaise: 100_00, atMs: 5 },
  triggered: { kind: 'triggered', atMs: 5 },
  cancelled: { kind: 'cancelled', reason: 'user', atMs: 5 },
};

describe('newOrder', () => {
  it('starts in PUT ORDER REQ RECEIVED with nothing filled and copies optional prices only when set', () => {
    const o = order({ orderType: 'SL', limitPricePaise: 101_00, triggerPricePaise: 100_00 });
    expect(o.status).toBe('PUT ORDER REQ RECEIVED');
    expect(o.filledQuantity).toBe(0);
    expect(o.cancelledQuantity).toBe(0);
    expect(o.limitPricePaise).toBe(101_00);
    expect(o.triggerPricePaise).toBe(100_00);
    expect('limitPricePaise' in order()).toBe(false);
    expect('triggerPricePaise' in order()).toBe(false);
  });
});

describe('applyOrderUpdate: allowed transitions', () => {
  it('accepts into OPEN or TRIGGER PENDING from each pre-acceptance status', () => {
    for (const status of ['PUT ORDER REQ RECEIVED', 'VALIDATION PENDING', 'OPEN PENDING'] as const) {
      const open = applyOrderUpdate(withStatus(status), updates.accepted);
      expect(open.status).toBe('OPEN');
      expect(open.brokerOrderId).toBe('B1');
      expect(open.updatedAtMs).toBe(5);
      expect(applyOrderUpdate(withStatus(status), acceptedPending).status).toBe('TRIGGER PENDING');
    }
  });

  it('rejects before acceptance with a reason and everything cancelled', () => {
    const rejected = applyOrderUpdate(order({ quantity: 7 }), { kind: 'rejected', reason: 'bad tick', atMs: 3 });
    expect(rejected.status).toBe('REJECTED');
    expect(rejected.statusMessage).toBe('bad tick');
    expect(rejected.cancelledQuantity).toBe(7);
  });

  it('partial fills stay OPEN, the last one completes, value accumulates exactly', () => {
    let o = accepted();
    o = applyOrderUpdate(o, { kind: 'filled', quantity: 3, pricePaise: 100_05, atMs: 3 });
    expect(o.status).toBe('OPEN');
    expect(o.filledQuantity).toBe(3);
    expect(pendingQuantity(o)).toBe(7);
    o = applyOrderUpdate(o, { kind: 'filled', quantity: 7, pricePaise: 99_95, atMs: 4 });
    expect(o.status).toBe('COMPLETE');
    expect(o.filledValuePaise).toBe(3 * 100_05 + 7 * 99_95);
    expect(pendingQuantity(o)).toBe(0);
    expect(orderAveragePricePaise(o)).toBe(99_98); // 999_800 / 10 = 99_980 → 99_98.0
  });

  it('rounds the average fill price half away from zero with integer arithmetic', () => {
    let o = accepted(order({ quantity: 3 }));
    o = applyOrderUpdate(o, { kind: 'filled', quantity: 1, pricePaise: 100, atMs: 3 });
    o = applyOrderUpdate(o, { kind: 'filled', quantity: 2, pricePaise: 101, atMs: 3 });
    expect(orderAveragePricePaise(o)).toBe(101); // 302 / 3 = 100.67
    expect(orderAveragePricePaise(accepted())).toBe(0);
  });

  it('triggers TRIGGER PENDING into OPEN, then fills', () => {
    const pending = applyOrderUpdate(order(), acceptedPending);
    const open = applyOrderUpdate(pending, updates.triggered);
    expect(open.status).toBe('OPEN');
    expect(applyOrderUpdate(open, updates.filled).filledQuantity).toBe(1);
  });

  it('cancels a partly filled order: the remainder is cancelled', () => {
    let o = applyOrderUpdate(accepted(), { kind: 'filled', quantity: 4, pricePaise: 100_00, atMs: 3 });
    o = applyOrderUpdate(o, { kind: 'cancelled', reason: 'IOC', atMs: 4 });
    expect(o.status).toBe('CANCELLED');
    expect(o.cancelledQuantity).toBe(6);
    expect(o.filledQuantity).toBe(4);
    expect(pendingQuantity(o)).toBe(0);
  });

  it('takes a fill that races a cancel request (CANCEL PENDING stays CANCEL PENDING)', () => {
    const o = applyOrderUpdate({ ...accepted(), status: 'CANCEL PENDING' }, { kind: 'filled', quantity: 2, pricePaise: 100_00, atMs: 3 });
    expect(o.status).toBe('CANCEL PENDING');
    expect(o.filledQuantity).toBe(2);
  });
});

describe('applyOrderUpdate: refused transitions', () => {
  it('terminal statuses are final for every update', () => {
    for (const status of ['COMPLETE', 'REJECTED', 'CANCELLED'] as const) {
      expect(isTerminal(status)).toBe(true);
      for (const update of Object.values(updates)) {
        expect(() => applyOrderUpdate(withStatus(status), update)).toThrow(OrderTransitionError);
      }
    }
  });

  it('accepts only before acceptance', () => {
    for (const status of ['OPEN', 'TRIGGER PENDING', 'MODIFY PENDING', 'CANCEL PENDING', 'AMO REQ RECEIVED'] as const) {
      expect(() => applyOrderUpdate(withStatus(status), updates.accepted)).toThrow(OrderTransitionError);
    }
  });

  it('triggers only TRIGGER PENDING', () => {
    for (const status of ['PUT ORDER REQ RECEIVED', 'OPEN', 'MODIFIED'] as const) {
      expect(() => applyOrderUpdate(withStatus(status), updates.triggered)).toThrow(OrderTransitionError);
    }
  });

  it('fills only a working order (not before acceptance, not before the trigger)', () => {
    for (const status of ['PUT ORDER REQ RECEIVED', 'VALIDATION PENDING', 'OPEN PENDING', 'TRIGGER PENDING', 'MODIFY PENDING'] as const) {
      expect(() => applyOrderUpdate(withStatus(status), updates.filled)).toThrow(OrderTransitionError);
    }
  });

  it('refuses overfills, zero, negative, fractional quantities and fractional prices', () => {
    const o = applyOrderUpdate(accepted(), { kind: 'filled', quantity: 8, pricePaise: 100_00, atMs: 3 });
    for (const quantity of [3, 0, -1, 1.5, Number.NaN]) {
      expect(() => applyOrderUpdate(o, { kind: 'filled', quantity, pricePaise: 100_00, atMs: 4 })).toThrow(OrderTransitionError);
    }
    expect(() => applyOrderUpdate(o, { kind: 'filled', quantity: 1, pricePaise: 100.5, atMs: 4 })).toThrow(OrderTransitionError);
    expect(applyOrderUpdate(o, { kind: 'filled', quantity: 2, pricePaise: 100_00, atMs: 4 }).status).toBe('COMPLETE');
  });

  it('never lets filled quantity exceed the order quantity (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.array(fc.integer({ min: -5, max: 60 }), { maxLength: 20 }), (quantity, fills) => {
        let o = accepted(order({ quantity }));
        for (const q of fills) {
          try {
            o = applyOrderUpdate(o, { kind: 'filled', quantity: q, pricePaise: 100, atMs: 1 });
          } catch (error) {
            expect(error).toBeInstanceOf(OrderTransitionError);
          }
          expect(o.filledQuantity).toBeLessThanOrEqual(quantity);
          expect(o.status === 'COMPLETE').toBe(o.filledQuantity === quantity);
        }
      }),
    );
  });
});

describe('clientOrderIdFor', () => {
  it('is at most 20 alphanumerics, deterministic, and distinct per sequence', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }),
        fc.maxSafeInteger().filter((n) => n >= 0),
        fc.maxSafeInteger().filter((n) => n >= 0),
        (strategyId, a, b) => {
          const id = clientOrderIdFor(strategyId, a);
          expect(id).toMatch(/^[A-Za-z0-9]{1,20}$/);
          expect(clientOrderIdFor(strategyId, a)).toBe(id);
          if (a !== b) expect(clientOrderIdFor(strategyId, b)).not.toBe(id);
        },
      ),
    );
  });

  it('differs between strategies for the same sequence', () => {
    const ids = new Set(['ema-cross', 'mean-revert', 'breakout', 'pairs', 'a', 'b'].map((s) => clientOrderIdFor(s, 1)));
    expect(ids.size).toBe(6);
  });

  it('gives the ids earlier versions gave (a journal written before an upgrade maps its intents to the same ids)', () => {
    // printed by the function as of 6af01b1, before its prefix was cached per strategy
    expect(clientOrderIdFor('ema-cross', 35)).toBe('T005SBBN00000000000Z');
    expect(clientOrderIdFor('manual', 0)).toBe('T09BAACJ000000000000');
    expect(clientOrderIdFor('s1', 2 ** 40)).toBe('T02B3JK90000E13WU1OG');
  });

  it('refuses sequences that would not give an alphanumeric id', () => {
    expect(() => clientOrderIdFor('s', -1)).toThrow(RangeError);
    expect(() => clientOrderIdFor('s', 1.5)).toThrow(RangeError);
  });
});

describe('amended (a spread without the hidden-class cliff)', () => {
  it('gives the keys, values and key order of { ...source, ...changes }, and leaves the source alone', () => {
    const source = order({ quantity: 10, reason: 'cross' });
    const changes = { brokerOrderId: 'B1', status: 'OPEN', updatedAtMs: 2 } as const;
    const next = amended(source, changes);
    expect(next).not.toBe(source);
    expect(JSON.stringify(next)).toBe(JSON.stringify({ ...source, ...changes }));
    expect(Object.keys(next).slice(-1)).toEqual(['brokerOrderId']);
    expect(source).not.toHaveProperty('brokerOrderId');
  });
});
