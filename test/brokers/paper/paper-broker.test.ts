import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PaperBroker } from '../../../src/brokers/paper/paper-broker.js';
import type { BrokerEvent, PaperBrokerSnapshot } from '../../../src/brokers/paper/paper-broker.types.js';
import { addCharges, contractNoteCharges, NO_CHARGES } from '../../../src/model/charges.js';
import type { Fill } from '../../../src/model/fill.js';
import type { Tick } from '../../../src/model/market.js';
import type { Order, OrderIntent } from '../../../src/model/order.js';
import { DAY_MS, istTimeMs } from '../../../src/model/time.js';
import { order } from '../../model/fixtures.js';
import { INFY, SESSION_MS, tick } from './fixtures.js';

const fills = (events: readonly BrokerEvent[]): Fill[] => events.flatMap((e) => (e.kind === 'fill' ? [e.fill] : []));
const updates = (events: readonly BrokerEvent[]): Order[] => events.flatMap((e) => (e.kind === 'order-updated' ? [e.order] : []));

/** Submits and returns the accepted order, failing the test on a rejection. */
function place(broker: PaperBroker, overrides: Partial<OrderIntent>, clientOrderId = 'C1', atMs = SESSION_MS): Order {
  const [event] = broker.submit(order(overrides, clientOrderId, atMs), INFY, atMs);
  if (event?.kind !== 'order-updated' || event.order.status === 'REJECTED') throw new Error(`not accepted: ${JSON.stringify(event)}`);
  return event.order;
}

describe('submit', () => {
  it('accepts MARKET and LIMIT as OPEN and stops as TRIGGER PENDING, with sequential broker ids', () => {
    const broker = new PaperBroker();
    expect(place(broker, {}, 'A')).toMatchObject({ status: 'OPEN', brokerOrderId: 'P000000001', updatedAtMs: SESSION_MS });
    expect(place(broker, { orderType: 'LIMIT', limitPricePaise: 990_00 }, 'B').status).toBe('OPEN');
    expect(place(broker, { orderType: 'SL', limitPricePaise: 1_011_00, triggerPricePaise: 1_010_00 }, 'C')).toMatchObject({
      status: 'TRIGGER PENDING',
      brokerOrderId: 'P000000003',
    });
    expect(place(broker, { orderType: 'SL-M', side: 'SELL', triggerPricePaise: 990_00 }, 'D').status).toBe('TRIGGER PENDING');
    expect(broker.openOrders().map((o) => o.clientOrderId)).toEqual(['A', 'B', 'C', 'D']);
  });

  it('does not fill on submission: a MARKET order waits for the next tick', () => {
    const broker = new PaperBroker();
    broker.onTicks([tick(1_000_00)]);
    const events = broker.submit(order(), INFY, SESSION_MS);
    expect(fills(events)).toHaveLength(0);
    expect(broker.openOrders()).toHaveLength(1);
  });

  it('throws on an order that is not new (a caller bug, not a rejection)', () => {
    const broker = new PaperBroker();
    for (const status of ['COMPLETE', 'OPEN', 'TRIGGER PENDING'] as const) {
      expect(() => broker.submit({ ...order(), status }, INFY, SESSION_MS)).toThrow(TypeError);
    }
    expect(broker.openOrders()).toHaveLength(0);
  });
});

describe('MARKET', () => {
  it('buys at the ask, sells at the bid, at the tick time', () => {
    const broker = new PaperBroker();
    place(broker, { quantity: 10 }, 'B');
    place(broker, { side: 'SELL', quantity: 10 }, 'S');
    const events = broker.onTicks([tick(1_000_00, { bidPaise: 999_95, askPaise: 1_000_05, exchangeTimeMs: SESSION_MS + 5 })]);
    const [buy, sell] = fills(events);
    expect(buy).toMatchObject({
      clientOrderId: 'B',
      side: 'BUY',
      quantity: 10,
      pricePaise: 1_000_05,
      atMs: SESSION_MS + 5,
      brokerOrderId: 'P000000001',
      fillId: 'F000000001',
    });
    expect(sell).toMatchObject({ clientOrderId: 'S', side: 'SELL', quantity: 10, pricePaise: 999_95, fillId: 'F000000002' });
    const completed = events.filter((e) => e.kind === 'fill').map((e) => e.order.status);
    expect(completed).toEqual(['COMPLETE', 'COMPLETE']);
    expect(broker.openOrders()).toHaveLength(0);
    expect(broker.nowMs()).toBe(SESSION_MS + 5);
  });

  it('uses the LTP without a quote', () => {
    const broker = new PaperBroker();
    place(broker, {});
    expect(fills(broker.onTicks([tick(1_001_10)]))[0]?.pricePaise).toBe(1_001_10);
  });

  it('applies slippage against the trader, rounded onto the grid against the trader', () => {
    const broker = new PaperBroker({ slippageBps: 0.3 });
    place(broker, {}, 'B');
    place(broker, { side: 'SELL' }, 'S');
    const [buy, sell] = fills(broker.onTicks([tick(1_000_00, { bidPaise: 1_000_00, askPaise: 1_000_00 })]));
    expect(buy?.pricePaise).toBe(1_000_05); // 1000.03 → up to 1000.05
    expect(sell?.pricePaise).toBe(999_95); // 999.97 → down to 999.95
  });

  it('ignores other symbols and ticks without a price', () => {
    const broker = new PaperBroker();
    place(broker, {});
    expect(broker.onTicks([tick(500_00, { symbol: 'TCS' }), tick(0)])).toHaveLength(0);
    expect(fills(broker.onTicks([tick(1_000_00)]))).toHaveLength(1);
  });
});

describe('LIMIT', () => {
  it('a resting buy fills at its limit only when the LTP trades through it', () => {
    const broker = new PaperBroker();
    broker.onTicks([tick(1_000_00)]);
    place(broker, { orderType: 'LIMIT', limitPricePaise: 990_00 });
    expect(broker.onTicks([tick(995_00), tick(990_00)])).toHaveLength(0);
    const [fill] = fills(broker.onTicks([tick(985_00)]));
    expect(fill?.pricePaise).toBe(990_00);
  });

  it('with fillAtTouch a resting buy fills when the LTP equals the limit', () => {
    const broker = new PaperBroker({ fillAtTouch: true });
    place(broker, { orderType: 'LIMIT', limitPricePaise: 990_00 });
    broker.onTicks([tick(995_00)]);
    expect(fills(broker.onTicks([tick(990_00)]))[0]?.pricePaise).toBe(990_00);
  });

  it('a resting sell fills at its limit when the LTP trades above it', () => {
    const broker = new PaperBroker();
    place(broker, { side: 'SELL', orderType: 'LIMIT', limitPricePaise: 1_010_00 });
    expect(broker.onTicks([tick(1_005_00), tick(1_010_00)])).toHaveLength(0);
    expect(fills(broker.onTicks([tick(1_010_05)]))[0]?.pricePaise).toBe(1_010_00);
  });

  it('a marketable limit takes the touch on its first tick, never worse than the limit', () => {
    const broker = new PaperBroker();
    place(broker, { orderType: 'LIMIT', limitPricePaise: 1_010_00 }, 'B');
    place(broker, { side: 'SELL', orderType: 'LIMIT', limitPricePaise: 990_00 }, 'S');
    const [buy, sell] = fills(broker.onTicks([tick(1_000_00, { bidPaise: 999_95, askPaise: 1_000_05 })]));
    expect(buy?.pricePaise).toBe(1_000_05);
    expect(sell?.pricePaise).toBe(999_95);
  });

  it('without a quote, a marketable limit takes the LTP on its first tick', () => {
    const broker = new PaperBroker();
    place(broker, { orderType: 'LIMIT', limitPricePaise: 1_010_00 });
    expect(fills(broker.onTicks([tick(1_000_00)]))[0]?.pricePaise).toBe(1_000_00);
  });

  it('after its first tick a limit is resting: later prints fill it at the limit', () => {
    const broker = new PaperBroker();
    place(broker, { orderType: 'LIMIT', limitPricePaise: 990_00 });
    broker.onTicks([tick(1_000_00, { askPaise: 1_000_05 })]);
    expect(fills(broker.onTicks([tick(950_00, { askPaise: 950_05 })]))[0]?.pricePaise).toBe(990_00);
  });
});

describe('SL and SL-M', () => {
  it('SL buy triggers at LTP ≥ trigger, reports OPEN, then fills as a limit on the same tick', () => {
    const broker = new PaperBroker();
    broker.onTicks([tick(1_000_00)]);
    place(broker, { orderType: 'SL', limitPricePaise: 1_015_00, triggerPricePaise: 1_010_00 });
    expect(broker.onTicks([tick(1_009_95)])).toHaveLength(0);
    const events = broker.onTicks([tick(1_010_00, { exchangeTimeMs: SESSION_MS + 9 })]);
    expect(events.map((e) => e.kind)).toEqual(['order-updated', 'fill']);
    expect(updates(events)[0]).toMatchObject({ status: 'OPEN', updatedAtMs: SESSION_MS + 9 });
    expect(fills(events)[0]?.pricePaise).toBe(1_010_00);
  });

  it('SL with trigger = limit that is not marketable on the trigger tick rests at its limit', () => {
    const broker = new PaperBroker();
    place(broker, { orderType: 'SL', limitPricePaise: 1_010_00, triggerPricePaise: 1_010_00 });
    const events = broker.onTicks([tick(1_012_00)]);
    expect(events.map((e) => e.kind)).toEqual(['order-updated']);
    expect(broker.openOrders()[0]?.status).toBe('OPEN');
    expect(fills(broker.onTicks([tick(1_009_00)]))[0]?.pricePaise).toBe(1_010_00);
  });

  it('SL-M sell triggers at LTP ≤ trigger and fills as a market order at the bid with slippage', () => {
    const broker = new PaperBroker({ slippageBps: 10 });
    broker.onTicks([tick(1_000_00)]);
    place(broker, { side: 'SELL', orderType: 'SL-M', triggerPricePaise: 990_00 });
    expect(broker.onTicks([tick(990_05)])).toHaveLength(0);
    const events = broker.onTicks([tick(989_00, { bidPaise: 988_00 })]);
    expect(events.map((e) => e.kind)).toEqual(['order-updated', 'fill']);
    expect(fills(events)[0]?.pricePaise).toBe(987_00); // 988 − 10 bp = 987.012 → 987.00
  });
});

describe('participation and partial fills', () => {
  it('takes at most the share of each tick’s volume delta; the order stays OPEN until COMPLETE', () => {
    const broker = new PaperBroker({ participationPercent: 10 });
    broker.onTicks([tick(1_000_00, { volume: 1_000 })]);
    place(broker, { quantity: 50 });
    const a = broker.onTicks([tick(1_000_00, { volume: 1_300, lastQuantity: 5 })]); // delta 300 → 30
    expect(fills(a).map((f) => f.quantity)).toEqual([30]);
    expect(updates(a)).toHaveLength(0);
    expect(broker.openOrders()[0]).toMatchObject({ status: 'OPEN', filledQuantity: 30 });
    const b = broker.onTicks([tick(1_000_00, { volume: 1_400 })]); // delta 100 → 10
    expect(fills(b).map((f) => f.quantity)).toEqual([10]);
    const c = broker.onTicks([tick(1_000_00, { volume: 1_400, lastQuantity: 200 })]); // no delta → lastQuantity 200 → 20, 10 left
    expect(fills(c).map((f) => f.quantity)).toEqual([10]);
    expect(c.find((e) => e.kind === 'fill')?.order).toMatchObject({ status: 'COMPLETE', filledQuantity: 50 });
  });

  it('uses lastQuantity on the first tick of a symbol and when the volume resets', () => {
    const broker = new PaperBroker({ participationPercent: 50 });
    place(broker, { quantity: 100 });
    expect(fills(broker.onTicks([tick(1_000_00, { volume: 5_000, lastQuantity: 20 })])).map((f) => f.quantity)).toEqual([10]);
    expect(fills(broker.onTicks([tick(1_000_00, { volume: 10, lastQuantity: 40 })])).map((f) => f.quantity)).toEqual([20]);
  });

  it('waits when the share is less than one lot', () => {
    const broker = new PaperBroker({ participationPercent: 10 });
    place(broker, { quantity: 5 });
    expect(broker.onTicks([tick(1_000_00, { lastQuantity: 9 })])).toHaveLength(0);
    expect(fills(broker.onTicks([tick(1_000_00, { lastQuantity: 10 })]))[0]?.quantity).toBe(1);
  });

  it('charges an auto square-off order the call-and-trade fee (₹50 + 18% GST) once, on its first fill', () => {
    const broker = new PaperBroker();
    place(broker, { side: 'SELL', quantity: 100, reason: 'auto-square-off' }, 'SQ');
    place(broker, { side: 'SELL', quantity: 25 }, 'OWN');
    const events = broker.onTicks([1, 2, 3, 4].map(() => tick(1_000_00, { lastQuantity: 25 })));
    const fees = events.flatMap((e) => (e.kind === 'fill' ? [[e.fill.clientOrderId, e.charges.callAndTradePaise]] : []));
    expect(fees).toEqual([
      ['SQ', 59_00],
      ['OWN', 0],
      ['SQ', 0],
      ['SQ', 0],
      ['SQ', 0],
    ]);
  });

  it('caps brokerage at ₹20 per order across its fills and charges each fill through the day ledger', () => {
    const broker = new PaperBroker({ participationPercent: 100 });
    place(broker, { quantity: 100 }); // ₹1,00,000 at ₹1,000
    const events = broker.onTicks([1, 2, 3, 4].map(() => tick(1_000_00, { lastQuantity: 25 })));
    const charges = events.flatMap((e) => (e.kind === 'fill' ? [e.charges] : []));
    expect(charges.map((c) => c.brokeragePaise)).toEqual([7_50, 7_50, 5_00, 0]);
    const total = charges.reduce(addCharges, NO_CHARGES);
    expect(total).toEqual(contractNoteCharges([{ symbol: 'INFY', side: 'BUY', product: 'MIS', quantity: 100, pricePaise: 1_000_00 }]));
    expect(fills(events).reduce((sum, f) => sum + f.chargesPaise, 0)).toBe(total.totalPaise);
  });

  it('a round trip of fills is charged exactly the reference ₹82.45; a new IST day starts a new note', () => {
    const broker = new PaperBroker();
    place(broker, { quantity: 100 }, 'B');
    const day1 = broker.onTicks([tick(1_000_00)]);
    place(broker, { side: 'SELL', quantity: 100 }, 'S');
    const day1b = broker.onTicks([tick(1_000_00)]);
    expect([...fills(day1), ...fills(day1b)].reduce((sum, f) => sum + f.chargesPaise, 0)).toBe(82_45);

    // holdings bought today, sold on the next two days: a delivery sell pays DP once per scrip per day
    place(broker, { quantity: 3, product: 'CNC' }, 'H');
    broker.onTicks([tick(1_000_00)]);
    const day2 = SESSION_MS + DAY_MS;
    place(broker, { side: 'SELL', quantity: 1, product: 'CNC' }, 'D1', day2);
    const dpFirst = broker.onTicks([tick(1_000_00, { exchangeTimeMs: day2 })]);
    place(broker, { side: 'SELL', quantity: 1, product: 'CNC' }, 'D2', day2);
    const dpSame = broker.onTicks([tick(1_000_00, { exchangeTimeMs: day2 + 1 })]);
    place(broker, { side: 'SELL', quantity: 1, product: 'CNC' }, 'D3', day2 + DAY_MS);
    const dpNext = broker.onTicks([tick(1_000_00, { exchangeTimeMs: day2 + DAY_MS })]);
    const dp = (events: readonly BrokerEvent[]) => events.flatMap((e) => (e.kind === 'fill' ? [e.charges.dpPaise] : []));
    expect([...dp(dpFirst), ...dp(dpSame), ...dp(dpNext)]).toEqual([15_34, 0, 15_34]);
  });
});

describe('same-day CNC round trips and CNC holdings', () => {
  const cncFills = (events: readonly BrokerEvent[]) => events.flatMap((e) => (e.kind === 'fill' ? [e] : []));

  it('a CNC buy and sell on the same day are charged as intraday: ₹82.45 over the two fills, no DP', () => {
    const broker = new PaperBroker();
    place(broker, { quantity: 100, product: 'CNC' }, 'B');
    const [buy] = cncFills(broker.onTicks([tick(1_000_00)]));
    // alone, the buy is a delivery buy: STT 0.1% = ₹100, transaction ₹2.97, SEBI ₹0.10,
    // GST 18% × 3.07 = ₹0.55, stamp 0.015% = ₹15 → ₹118.62
    expect(buy?.charges.totalPaise).toBe(118_62);
    place(broker, { side: 'SELL', quantity: 100, product: 'CNC' }, 'S');
    const [sell] = cncFills(broker.onTicks([tick(1_000_00, { exchangeTimeMs: SESSION_MS + 60_000 })]));
    // the note is now an intraday round trip (₹82.45, as MIS): the sell pays the change, -₹36.17:
    // brokerage +₹40, STT 25 − 100 = −₹75, transaction +₹2.97, SEBI +₹0.10, GST 8.31 − 0.55 = +₹7.76, stamp 3 − 15 = −₹12
    expect(sell?.charges).toEqual({
      brokeragePaise: 40_00,
      sttPaise: -75_00,
      transactionPaise: 2_97,
      sebiPaise: 10,
      gstPaise: 7_76,
      stampPaise: -12_00,
      dpPaise: 0,
      callAndTradePaise: 0,
      totalPaise: -36_17,
    });
    expect((buy?.fill.chargesPaise ?? 0) + (sell?.fill.chargesPaise ?? 0)).toBe(82_45);
  });

  it('refuses a CNC sell without holdings (Kite: insufficient holdings); MIS may sell short', () => {
    const broker = new PaperBroker();
    const [refused] = broker.submit(order({ side: 'SELL', quantity: 5, product: 'CNC' }, 'S1'), INFY, SESSION_MS);
    expect(refused).toMatchObject({ kind: 'order-updated', rejectionCode: 'insufficient-holdings', order: { status: 'REJECTED' } });
    expect(refused?.kind === 'order-updated' ? refused.order.statusMessage : '').toMatch(/Insufficient holdings.*0 available.*MIS only/);
    expect(place(broker, { side: 'SELL', quantity: 5, product: 'MIS' }, 'M1').status).toBe('OPEN');
    expect(broker.openOrders().map((o) => o.clientOrderId)).toEqual(['M1']);
  });

  it('holdings are the net CNC fills of every day in that portfolio, less open CNC sells', () => {
    const broker = new PaperBroker();
    place(broker, { quantity: 10, product: 'CNC' }, 'B1');
    const status = (id: string, quantity: number, portfolioId = 'pf-1', atMs = SESSION_MS) => {
      const [event] = broker.submit(order({ side: 'SELL', quantity, product: 'CNC', portfolioId }, id, atMs), INFY, atMs);
      return event?.kind === 'order-updated' ? event.order.status : 'none';
    };
    // an unfilled buy is no holding
    expect(status('S0', 1)).toBe('REJECTED');
    broker.onTicks([tick(1_000_00)]);
    expect(broker.holding('pf-1', 'INFY')).toBe(10);
    expect(status('S1', 6)).toBe('OPEN'); // today's buy counts
    expect(status('S2', 5)).toBe('REJECTED'); // 6 of the 10 are held by the open sell
    expect(status('S3', 4)).toBe('OPEN');
    expect(status('X1', 1, 'pf-2')).toBe('REJECTED'); // another portfolio holds nothing
    broker.onTicks([tick(1_000_00, { exchangeTimeMs: SESSION_MS + 2_000 })]);
    expect(broker.holding('pf-1', 'INFY')).toBe(0);
    // carried to the next day through a snapshot (JSON): a holding survives a restart
    place(broker, { quantity: 7, product: 'CNC' }, 'B2');
    broker.onTicks([tick(1_000_00, { exchangeTimeMs: SESSION_MS + 3_000 })]);
    const restored = PaperBroker.restore(JSON.parse(JSON.stringify(broker.snapshot())) as PaperBrokerSnapshot);
    expect(restored.holding('pf-1', 'INFY')).toBe(7);
    const [next] = restored.submit(order({ side: 'SELL', quantity: 7, product: 'CNC' }, 'S4', SESSION_MS + DAY_MS), INFY, SESSION_MS + DAY_MS);
    expect(next?.kind === 'order-updated' ? next.order.status : '').toBe('OPEN');
  });
});

describe('IOC', () => {
  it('cancels the unfilled remainder after the first tick', () => {
    const broker = new PaperBroker({ participationPercent: 10 });
    place(broker, { quantity: 50, validity: 'IOC' });
    const events = broker.onTicks([tick(1_000_00, { lastQuantity: 200 })]);
    expect(events.map((e) => e.kind)).toEqual(['fill', 'order-updated']);
    expect(updates(events)[0]).toMatchObject({ status: 'CANCELLED', filledQuantity: 20, cancelledQuantity: 30 });
    expect(broker.openOrders()).toHaveLength(0);
  });

  it('cancels a non-marketable IOC limit without a fill', () => {
    const broker = new PaperBroker();
    place(broker, { orderType: 'LIMIT', limitPricePaise: 990_00, validity: 'IOC' });
    const events = broker.onTicks([tick(1_000_00)]);
    expect(updates(events)[0]).toMatchObject({ status: 'CANCELLED', filledQuantity: 0, cancelledQuantity: 10 });
  });

  it('completes an IOC that fills entirely', () => {
    const broker = new PaperBroker();
    place(broker, { validity: 'IOC' });
    const events = broker.onTicks([tick(1_000_00)]);
    expect(events.map((e) => e.kind)).toEqual(['fill']);
    expect(events[0]).toMatchObject({ order: { status: 'COMPLETE' } });
  });

  it('an IOC stop waits for its trigger, then gets one tick', () => {
    const broker = new PaperBroker();
    place(broker, { orderType: 'SL', limitPricePaise: 1_010_00, triggerPricePaise: 1_010_00, validity: 'IOC' });
    expect(broker.onTicks([tick(1_000_00)])).toHaveLength(0);
    const events = broker.onTicks([tick(1_012_00)]);
    expect(updates(events).map((o) => o.status)).toEqual(['OPEN', 'CANCELLED']);
  });
});

describe('cancel', () => {
  it('cancels a resting order, which then never fills', () => {
    const broker = new PaperBroker();
    place(broker, { orderType: 'LIMIT', limitPricePaise: 990_00 });
    const [event] = broker.cancel('C1', SESSION_MS + 7);
    expect(event).toMatchObject({ kind: 'order-updated', order: { status: 'CANCELLED', cancelledQuantity: 10, updatedAtMs: SESSION_MS + 7 } });
    expect(broker.openOrders()).toHaveLength(0);
    expect(broker.onTicks([tick(900_00)])).toHaveLength(0);
  });

  it('cancels a partly filled order: the remainder is cancelled', () => {
    const broker = new PaperBroker({ participationPercent: 10 });
    place(broker, { quantity: 50 });
    broker.onTicks([tick(1_000_00, { lastQuantity: 100 })]);
    expect(broker.cancel('C1', SESSION_MS)[0]).toMatchObject({ order: { status: 'CANCELLED', filledQuantity: 10, cancelledQuantity: 40 } });
  });

  it('cancels a TRIGGER PENDING order', () => {
    const broker = new PaperBroker();
    place(broker, { orderType: 'SL-M', triggerPricePaise: 1_100_00 });
    expect(broker.cancel('C1', SESSION_MS)[0]).toMatchObject({ order: { status: 'CANCELLED' } });
  });

  it('refuses unknown, cancelled and completed orders', () => {
    const broker = new PaperBroker();
    expect(broker.cancel('NOPE', 1)[0]).toMatchObject({ kind: 'cancel-rejected', clientOrderId: 'NOPE', atMs: 1 });
    place(broker, {}, 'A');
    broker.onTicks([tick(1_000_00)]);
    expect(broker.cancel('A', 2)[0]?.kind).toBe('cancel-rejected');
    place(broker, { orderType: 'LIMIT', limitPricePaise: 900_00 }, 'B');
    broker.cancel('B', 3);
    expect(broker.cancel('B', 4)[0]?.kind).toBe('cancel-rejected');
  });
});

describe('market hours', () => {
  it('does not match on ticks outside the session when marketHoursOnly', () => {
    const broker = new PaperBroker({ marketHoursOnly: true });
    place(broker, { product: 'CNC' }); // an MIS order would be cancelled at the 15:20 square-off
    expect(broker.onTicks([tick(1_000_00, { exchangeTimeMs: istTimeMs('2026-05-20', 15, 45) })])).toHaveLength(0);
    expect(fills(broker.onTicks([tick(1_000_00, { exchangeTimeMs: istTimeMs('2026-05-21', 9, 15) })]))).toHaveLength(1);
  });
});

describe('hot path', () => {
  it('returns one shared empty result when nothing matches', () => {
    const broker = new PaperBroker();
    place(broker, { orderType: 'LIMIT', limitPricePaise: 900_00 });
    const quiet = [tick(500_00, { symbol: 'TCS' }), tick(1_000_00)];
    const first = broker.onTicks(quiet);
    expect(first).toHaveLength(0);
    expect(broker.onTicks(quiet)).toBe(first);
    expect(broker.onTicks([])).toBe(first);
  });

  it('rejects bad configuration', () => {
    expect(() => new PaperBroker({ participationPercent: 0 })).toThrow(RangeError);
    expect(() => new PaperBroker({ participationPercent: 101 })).toThrow(RangeError);
    expect(() => new PaperBroker({ slippageBps: -1 })).toThrow(RangeError);
  });
});

// ---- determinism and snapshots -------------------------------------------------------

type Step =
  | { readonly op: 'submit'; readonly overrides: Partial<OrderIntent>; readonly id: string }
  | { readonly op: 'cancel'; readonly id: string }
  | { readonly op: 'ticks'; readonly ticks: readonly Tick[] };

const ids = ['A', 'B', 'C', 'D', 'E'];
const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  fc
    .record({
      id: fc.constantFrom(...ids),
      side: fc.constantFrom('BUY' as const, 'SELL' as const),
      orderType: fc.constantFrom('MARKET' as const, 'LIMIT' as const, 'SL' as const, 'SL-M' as const),
      product: fc.constantFrom('MIS' as const, 'CNC' as const),
      validity: fc.constantFrom('DAY' as const, 'IOC' as const),
      quantity: fc.integer({ min: 1, max: 300 }),
      price: fc.integer({ min: 190, max: 210 }).map((p) => p * 5_00),
      trigger: fc.integer({ min: 190, max: 210 }).map((p) => p * 5_00),
    })
    .map(({ id, price, trigger, ...rest }) => ({ op: 'submit' as const, id, overrides: { ...rest, limitPricePaise: price, triggerPricePaise: trigger } })),
  fc.constantFrom(...ids).map((id) => ({ op: 'cancel' as const, id })),
  fc
    .array(
      fc.record({
        ltp: fc.integer({ min: 19_000, max: 21_000 }).map((p) => p * 5),
        spread: fc.integer({ min: 0, max: 4 }),
        lastQuantity: fc.integer({ min: 1, max: 200 }),
        volumeStep: fc.integer({ min: 0, max: 300 }),
      }),
      { maxLength: 6 },
    )
    .map((raw) => ({
      op: 'ticks' as const,
      ticks: raw.map((r, i) =>
        tick(r.ltp, {
          lastQuantity: r.lastQuantity,
          volume: r.volumeStep * (i + 1),
          ...(r.spread > 0 ? { bidPaise: r.ltp - 5 * r.spread, askPaise: r.ltp + 5 * r.spread } : {}),
        }),
      ),
    })),
);

function runSteps(broker: PaperBroker, steps: readonly Step[], startMs: number): BrokerEvent[] {
  const out: BrokerEvent[] = [];
  steps.forEach((step, i) => {
    const atMs = startMs + i;
    if (step.op === 'submit') {
      const intent = { ...step.overrides, intentId: step.id } as Partial<OrderIntent>;
      if (broker.openOrders().some((o) => o.clientOrderId === step.id)) return;
      out.push(...broker.submit(order(intent, step.id, atMs), INFY, atMs));
    } else if (step.op === 'cancel') {
      out.push(...broker.cancel(step.id, atMs));
    } else {
      out.push(...broker.onTicks(step.ticks.map((t) => ({ ...t, exchangeTimeMs: atMs }))));
    }
  });
  return out;
}

describe('determinism', () => {
  it('the same inputs give the same events, and the model invariants hold', () => {
    fc.assert(
      fc.property(
        fc.array(stepArbitrary, { maxLength: 30 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 1, max: 100 }),
        (steps, slippageBps, participationPercent) => {
          const config = { slippageBps, participationPercent };
          const a = runSteps(new PaperBroker(config), steps, SESSION_MS);
          const b = runSteps(new PaperBroker(config), steps, SESSION_MS);
          expect(b).toEqual(a);
          for (const event of a) {
            if (event.kind !== 'fill') continue;
            expect(event.fill.pricePaise % INFY.tickSizePaise).toBe(0);
            expect(event.fill.pricePaise).toBeGreaterThanOrEqual(800_00);
            expect(event.fill.pricePaise).toBeLessThanOrEqual(1_200_00);
            expect(event.order.filledQuantity).toBeLessThanOrEqual(event.order.quantity);
            expect(event.fill.chargesPaise).toBe(event.charges.totalPaise);
            const limit = event.order.limitPricePaise;
            if ((event.order.orderType === 'LIMIT' || event.order.orderType === 'SL') && limit !== undefined) {
              if (event.fill.side === 'BUY') expect(event.fill.pricePaise).toBeLessThanOrEqual(limit);
              else expect(event.fill.pricePaise).toBeGreaterThanOrEqual(limit);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('snapshot and restore', () => {
  it('a restored broker continues exactly like the original, through JSON', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { maxLength: 20 }), fc.array(stepArbitrary, { maxLength: 20 }), (before, after) => {
        const config = { slippageBps: 2, participationPercent: 30 };
        const original = new PaperBroker(config);
        runSteps(original, before, SESSION_MS);
        const snapshot = JSON.parse(JSON.stringify(original.snapshot())) as PaperBrokerSnapshot;
        const restored = PaperBroker.restore(snapshot, config);
        expect(restored.snapshot()).toEqual(original.snapshot());
        expect(restored.openOrders()).toEqual(original.openOrders());
        expect(restored.nowMs()).toBe(original.nowMs());
        const startMs = SESSION_MS + 1_000;
        expect(runSteps(restored, after, startMs)).toEqual(runSteps(original, after, startMs));
      }),
      { numRuns: 200 },
    );
  });

  it('refuses an unknown snapshot version', () => {
    const snapshot = { ...new PaperBroker().snapshot(), version: 2 } as unknown as PaperBrokerSnapshot;
    expect(() => PaperBroker.restore(snapshot)).toThrow(TypeError);
  });
});
