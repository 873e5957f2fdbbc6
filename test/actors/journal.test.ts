import { describe, expect, it } from 'vitest';
import { SnapshotDecodeError, type Json } from '../../src/actors/core/index.js';
import { newOrder } from '../../src/model/index.js';
import { fromJournalRecord, toJournalEntry, type JournalRecord, type OrderJournalEntry } from '../../src/actors/journal.js';

import { fill, intent } from '../support/builders.js';

const order = {
  ...newOrder(intent({ reason: 'close above SMA20', explanation: { source: 'tutorial-sma', summary: 'long' } }), 'T0000001', 1_000),
  brokerOrderId: 'B1',
  status: 'COMPLETE' as const,
  filledQuantity: 10,
  filledValuePaise: 1_500_000,
};

/** The order as JSON, to spoil one field of. */
const orderJson = JSON.parse(JSON.stringify(order)) as { [key: string]: Json };

/** What the journal hands back: the entry's payload through JSON, with a sequence. */
const stored = (entry: OrderJournalEntry, sequence = 7): JournalRecord => {
  const { stream, type, payload } = toJournalEntry('execution/paper', entry);
  return { stream, type, payload: JSON.parse(JSON.stringify(payload)) as Json, sequence, atMs: 2_000 };
};

describe('order journal entries', () => {
  it('read back exactly what was journaled, for every entry type', () => {
    const entries: OrderJournalEntry[] = [
      { type: 'OrderPlaced', order },
      { type: 'OrderUpdated', order },
      { type: 'Fill', fill: fill({ clientOrderId: order.clientOrderId }), order },
      { type: 'OrderReconciled', order, reason: 'broker says COMPLETE' },
    ];
    for (const entry of entries) expect(fromJournalRecord(stored(entry))).toEqual(entry);
    expect(fromJournalRecord({ stream: 'execution/paper', type: 'Heartbeat', payload: null, sequence: 1, atMs: 0 })).toBeUndefined();
  });

  it('refuse a payload of the wrong shape, naming the record and the first bad field', () => {
    const placed = stored({ type: 'OrderPlaced', order });
    const bad = { ...placed, payload: { order: { ...orderJson, quantity: '10' } } };
    expect(() => fromJournalRecord(bad)).toThrow(SnapshotDecodeError);
    expect(() => fromJournalRecord(bad)).toThrow('journal record 7 (OrderPlaced): /order/quantity must be integer');
    const filled = stored({ type: 'Fill', fill: fill(), order }, 9);
    expect(() => fromJournalRecord({ ...filled, payload: { order: orderJson } })).toThrow(
      'journal record 9 (Fill): the value must have required properties fill',
    );
    expect(() => fromJournalRecord({ ...placed, type: 'OrderReconciled' })).toThrow(
      'journal record 7 (OrderReconciled): the value must have required properties reason',
    );
    expect(() => fromJournalRecord({ ...placed, payload: { order: { ...orderJson, status: 'DONE' } } })).toThrow('/order/status');
  });
});
