import { describe, expect, it } from 'vitest';
import { PaperBroker } from '../../../src/brokers/paper/paper-broker.js';
import type { RejectionCode } from '../../../src/brokers/paper/paper-broker.types.js';
import { validateOrder } from '../../../src/brokers/paper/validation.js';
import { nseEquity, type Instrument } from '../../../src/model/instrument.js';
import type { OrderIntent } from '../../../src/model/order.js';
import { istTimeMs } from '../../../src/model/time.js';
import { order } from '../../model/fixtures.js';
import { INFY, SESSION_MS, tick } from './fixtures.js';

const context = { atMs: SESSION_MS, marketHoursOnly: false, lastPricePaise: 0 };
const LOT25: Instrument = { ...nseEquity('NIFTYFUT', 12_345_602, 24_000_00), exchange: 'NFO', lotSize: 25, freezeQuantity: 1_800 };

const cases: readonly [string, Partial<OrderIntent>, RejectionCode, Instrument?][] = [
  ['another symbol', { symbol: 'TCS' }, 'symbol-mismatch'],
  ['NRML on equity', { product: 'NRML' }, 'product-not-allowed'],
  ['CNC on derivatives', { symbol: 'NIFTYFUT', product: 'CNC', quantity: 25 }, 'product-not-allowed', LOT25],
  ['zero quantity', { quantity: 0 }, 'invalid-quantity'],
  ['negative quantity', { quantity: -5 }, 'invalid-quantity'],
  ['fractional quantity', { quantity: 1.5 }, 'invalid-quantity'],
  ['not a lot multiple', { symbol: 'NIFTYFUT', product: 'NRML', quantity: 30 }, 'lot-size', LOT25],
  ['above the freeze quantity', { symbol: 'NIFTYFUT', product: 'NRML', quantity: 1_825 }, 'freeze-quantity', LOT25],
  ['limit without price', { orderType: 'LIMIT' }, 'price-missing'],
  ['SL without price', { orderType: 'SL', triggerPricePaise: 1_010_00 }, 'price-missing'],
  ['zero price', { orderType: 'LIMIT', limitPricePaise: 0 }, 'invalid-price'],
  ['fractional price', { orderType: 'LIMIT', limitPricePaise: 1_000_00.5 }, 'invalid-price'],
  ['price off the tick grid', { orderType: 'LIMIT', limitPricePaise: 1_000_03 }, 'tick-size'],
  ['price under the lower circuit', { orderType: 'LIMIT', limitPricePaise: 799_95 }, 'price-band'],
  ['price over the upper circuit', { orderType: 'LIMIT', limitPricePaise: 1_200_05 }, 'price-band'],
  ['SL-M without trigger', { orderType: 'SL-M' }, 'trigger-missing'],
  ['SL without trigger', { orderType: 'SL', limitPricePaise: 1_000_00 }, 'trigger-missing'],
  ['trigger off the grid', { orderType: 'SL-M', triggerPricePaise: 1_010_01 }, 'tick-size'],
  ['trigger over the circuit', { orderType: 'SL-M', triggerPricePaise: 1_250_00 }, 'trigger-band'],
  ['SL buy trigger above price', { orderType: 'SL', limitPricePaise: 1_000_00, triggerPricePaise: 1_000_05 }, 'trigger-above-price'],
  ['SL sell trigger below price', { orderType: 'SL', side: 'SELL', limitPricePaise: 1_000_00, triggerPricePaise: 999_95 }, 'trigger-below-price'],
];

describe('validateOrder', () => {
  it.each(cases)('rejects %s', (_name, overrides, code, instrument = INFY) => {
    expect(validateOrder(order(overrides), instrument, context)?.code).toBe(code);
  });

  it('accepts well-formed orders of every type', () => {
    expect(validateOrder(order(), INFY, context)).toBeUndefined();
    expect(validateOrder(order({ orderType: 'LIMIT', limitPricePaise: 800_00 }), INFY, context)).toBeUndefined();
    expect(validateOrder(order({ orderType: 'LIMIT', limitPricePaise: 1_200_00 }), INFY, context)).toBeUndefined();
    expect(validateOrder(order({ orderType: 'SL', limitPricePaise: 1_010_00, triggerPricePaise: 1_010_00 }), INFY, context)).toBeUndefined();
    expect(validateOrder(order({ orderType: 'SL-M', side: 'SELL', triggerPricePaise: 990_00 }), INFY, context)).toBeUndefined();
    expect(validateOrder(order({ symbol: 'NIFTYFUT', product: 'NRML', quantity: 1_800 }), LOT25, context)).toBeUndefined();
  });

  it('rejects a stop that would trigger at once against the last traded price', () => {
    const withLtp = { ...context, lastPricePaise: 1_000_00 };
    expect(validateOrder(order({ orderType: 'SL-M', triggerPricePaise: 1_000_00 }), INFY, withLtp)?.code).toBe('trigger-vs-ltp');
    expect(validateOrder(order({ orderType: 'SL-M', side: 'SELL', triggerPricePaise: 1_000_00 }), INFY, withLtp)?.code).toBe('trigger-vs-ltp');
    expect(validateOrder(order({ orderType: 'SL-M', triggerPricePaise: 1_000_05 }), INFY, withLtp)).toBeUndefined();
  });

  it('rejects outside market hours only when asked to', () => {
    const saturday = istTimeMs('2026-05-23', 10, 0);
    const evening = istTimeMs('2026-05-20', 15, 30);
    const early = istTimeMs('2026-05-20', 9, 14);
    const bakriId = istTimeMs('2026-05-28', 10, 0); // an NSE trading holiday (a Thursday)
    for (const atMs of [saturday, evening, early, bakriId]) {
      expect(validateOrder(order(), INFY, { ...context, atMs, marketHoursOnly: true })?.code).toBe('market-closed');
      expect(validateOrder(order(), INFY, { ...context, atMs })).toBeUndefined();
    }
    expect(validateOrder(order(), INFY, { ...context, atMs: istTimeMs('2026-05-20', 9, 15), marketHoursOnly: true })).toBeUndefined();
    expect(validateOrder(order(), INFY, { ...context, atMs: istTimeMs('2026-02-01', 10, 0), marketHoursOnly: true })).toBeUndefined(); // budget Sunday session
  });
});

describe('PaperBroker.submit rejections', () => {
  it.each(cases)('reports %s as REJECTED with a message and a code', (_name, overrides, code, instrument = INFY) => {
    const events = new PaperBroker().submit(order(overrides), instrument, SESSION_MS);
    expect(events).toHaveLength(1);
    const event = events[0]!;
    if (event.kind !== 'order-updated') throw new Error(`unexpected ${event.kind}`);
    expect(event.rejectionCode).toBe(code);
    expect(event.order.status).toBe('REJECTED');
    expect(event.order.statusMessage).toBeTruthy();
    expect(event.order.brokerOrderId).toBeUndefined();
  });

  it('checks stop triggers against the last tick it saw', () => {
    const broker = new PaperBroker();
    broker.onTicks([tick(1_000_00)]);
    const [event] = broker.submit(order({ orderType: 'SL-M', triggerPricePaise: 995_00 }), INFY, SESSION_MS);
    expect(event).toMatchObject({ kind: 'order-updated', rejectionCode: 'trigger-vs-ltp' });
  });

  it('rejects outside market hours when marketHoursOnly', () => {
    const broker = new PaperBroker({ marketHoursOnly: true });
    const [event] = broker.submit(order(), INFY, istTimeMs('2026-05-20', 16, 0));
    expect(event).toMatchObject({ kind: 'order-updated', rejectionCode: 'market-closed', order: { status: 'REJECTED' } });
  });

  it('rejects a client order id that is already open', () => {
    const broker = new PaperBroker();
    broker.submit(order({ orderType: 'LIMIT', limitPricePaise: 900_00 }), INFY, SESSION_MS);
    const [event] = broker.submit(order({ orderType: 'LIMIT', limitPricePaise: 900_00 }), INFY, SESSION_MS);
    expect(event).toMatchObject({ kind: 'order-updated', rejectionCode: 'duplicate-order' });
    expect(broker.openOrders()).toHaveLength(1);
  });
});
