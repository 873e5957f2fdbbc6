import { describe, expect, it } from 'vitest';
import { PaperBroker } from '../../../src/brokers/paper/paper-broker.js';
import type { AutoSquareOffEvent, BrokerEvent, PaperBrokerSnapshot } from '../../../src/brokers/paper/paper-broker.types.js';
import type { Fill } from '../../../src/model/fill.js';
import { nseEquity } from '../../../src/model/instrument.js';
import type { Order, OrderIntent } from '../../../src/model/order.js';
import { order } from '../../model/fixtures.js';
import { tick } from './fixtures.js';

/** IST wall time on 2026-05-20 (a Wednesday) or another date, from the UTC+05:30 offset. */
const ist = (hh: number, mm: number, ss = 0, date = '2026-05-20'): number => Date.parse(`${date}T00:00:00Z`) - 330 * 60_000 + ((hh * 60 + mm) * 60 + ss) * 1000;

/** INFY at ₹1,000 with a freeze quantity large enough for one 75,001-share order. */
const INFY = { ...nseEquity('INFY', 408_065, 1_000_00), freezeQuantity: 1_000_000 };

const fills = (events: readonly BrokerEvent[]): Fill[] => events.flatMap((e) => (e.kind === 'fill' ? [e.fill] : []));
const updates = (events: readonly BrokerEvent[]): Order[] => events.flatMap((e) => (e.kind === 'order-updated' ? [e.order] : []));
const squareOffs = (events: readonly BrokerEvent[]): AutoSquareOffEvent[] => events.flatMap((e) => (e.kind === 'auto-square-off' ? [e] : []));

function accept(broker: PaperBroker, overrides: Partial<OrderIntent>, id: string, atMs: number): Order {
  const [event] = broker.submit(order(overrides, id, atMs), INFY, atMs);
  if (event?.kind !== 'order-updated' || event.order.status === 'REJECTED') throw new Error(`not accepted: ${JSON.stringify(event)}`);
  return event.order;
}

/** A broker holding `quantity` INFY MIS (bought at 10:00) for strategy `s1` of portfolio `pf-1`. */
function holding(quantity: number, side: 'BUY' | 'SELL' = 'BUY', broker = new PaperBroker()): PaperBroker {
  accept(broker, { quantity, side, strategyId: 's1' }, `OPEN${side}${quantity}`, ist(10, 0));
  const opened = broker.onTicks([tick(1_000_00, { exchangeTimeMs: ist(10, 0, 1), lastQuantity: 10_000_000 })]);
  expect(fills(opened).reduce((sum, fill) => sum + fill.quantity, 0)).toBe(quantity);
  return broker;
}

describe('paper broker: MIS auto square-off at 15:20 IST', () => {
  it('does nothing before the cut-off, then closes the position at market on the first tick at or after 15:20 in orders of at most 30,000', () => {
    const broker = holding(75_001);
    expect(broker.onTicks([tick(1_001_00, { exchangeTimeMs: ist(15, 19, 59), lastQuantity: 10_000_000 })])).toHaveLength(0);
    const events = broker.onTicks([tick(1_002_00, { bidPaise: 1_001_95, askPaise: 1_002_05, exchangeTimeMs: ist(15, 20), lastQuantity: 10_000_000 })]);

    const [event, ...others] = squareOffs(events);
    expect(others).toEqual([]);
    expect(event).toMatchObject({ portfolioId: 'pf-1', strategyId: 's1', symbol: 'INFY', side: 'SELL', quantity: 75_001, atMs: ist(15, 20), late: false });
    const placed = updates(events);
    expect(placed.map((o) => [o.side, o.quantity, o.orderType, o.product, o.status, o.reason])).toEqual([
      ['SELL', 30_000, 'MARKET', 'MIS', 'OPEN', 'auto-square-off'],
      ['SELL', 30_000, 'MARKET', 'MIS', 'OPEN', 'auto-square-off'],
      ['SELL', 15_001, 'MARKET', 'MIS', 'OPEN', 'auto-square-off'],
    ]);
    expect(event?.orders).toEqual(placed.map((o) => o.clientOrderId));
    expect(new Set(placed.map((o) => o.clientOrderId)).size).toBe(3);
    for (const id of event?.orders ?? []) expect(id).toMatch(/^[A-Z0-9]{1,20}$/); // a valid Kite tag
    // filled on that very tick, at the bid (a market sell)
    expect(fills(events).map((f) => [f.clientOrderId, f.side, f.quantity, f.pricePaise, f.strategyId, f.atMs])).toEqual(
      placed.map((o) => [o.clientOrderId, 'SELL', o.quantity, 1_001_95, 's1', ist(15, 20)]),
    );
    expect(broker.openMisPositions()).toEqual([]);
    expect(broker.openOrders()).toEqual([]);
    // once a day: later ticks of the day change nothing
    expect(broker.onTicks([tick(1_003_00, { exchangeTimeMs: ist(15, 25) })])).toHaveLength(0);
  });

  it('buys back a short position', () => {
    const broker = holding(40, 'SELL');
    const events = broker.onTicks([tick(1_000_00, { askPaise: 1_000_10, bidPaise: 999_90, exchangeTimeMs: ist(15, 21, 30) })]);
    expect(squareOffs(events)).toMatchObject([{ side: 'BUY', quantity: 40 }]);
    expect(fills(events)).toMatchObject([{ side: 'BUY', quantity: 40, pricePaise: 1_000_10 }]);
  });

  it('squares off each strategy of each portfolio separately and leaves CNC positions alone', () => {
    const broker = new PaperBroker();
    accept(broker, { quantity: 10, strategyId: 'a' }, 'A', ist(10, 0));
    accept(broker, { quantity: 4, side: 'SELL', strategyId: 'b' }, 'B', ist(10, 0));
    accept(broker, { quantity: 6, strategyId: 'a', portfolioId: 'pf-2' }, 'C', ist(10, 0));
    accept(broker, { quantity: 7, strategyId: 'a', product: 'CNC' }, 'D', ist(10, 0));
    broker.onTicks([tick(1_000_00, { exchangeTimeMs: ist(10, 1) })]);
    const events = broker.onTicks([tick(1_000_00, { exchangeTimeMs: ist(15, 20) })]);
    expect(squareOffs(events).map((e) => [e.portfolioId, e.strategyId, e.side, e.quantity])).toEqual([
      ['pf-1', 'a', 'SELL', 10],
      ['pf-1', 'b', 'BUY', 4],
      ['pf-2', 'a', 'SELL', 6],
    ]);
    expect(fills(events).every((f) => f.product === 'MIS')).toBe(true);
  });

  it('cancels the working MIS orders of the symbol first (Zerodha cancels pending MIS orders at the cut-off); CNC orders stay', () => {
    const broker = holding(10);
    accept(broker, { quantity: 5, orderType: 'LIMIT', limitPricePaise: 900_00, strategyId: 's1' }, 'WAIT', ist(11, 0));
    accept(broker, { quantity: 5, orderType: 'LIMIT', limitPricePaise: 900_00, strategyId: 's1', product: 'CNC' }, 'KEEP', ist(11, 0));
    const events = broker.onTicks([tick(1_000_00, { exchangeTimeMs: ist(15, 20) })]);
    const cancelled = updates(events).filter((o) => o.status === 'CANCELLED');
    expect(cancelled.map((o) => o.clientOrderId)).toEqual(['WAIT']);
    expect(squareOffs(events)).toMatchObject([{ quantity: 10 }]); // the cancelled order had filled nothing
    expect(broker.openOrders().map((o) => o.clientOrderId)).toEqual(['KEEP']);
  });

  it('rejects a new MIS order from the cut-off to the end of the day (mis-cutoff), accepts CNC, and MIS again the next morning', () => {
    const broker = new PaperBroker();
    for (const atMs of [ist(15, 20), ist(15, 29), ist(23, 0)]) {
      const [event] = broker.submit(order({}, `M${atMs}`, atMs), INFY, atMs);
      expect(event).toMatchObject({ kind: 'order-updated', rejectionCode: 'mis-cutoff', order: { status: 'REJECTED' } });
      expect(event?.kind === 'order-updated' ? event.order.statusMessage : '').toMatch(/no new MIS orders after 15:20 IST/);
    }
    expect(accept(broker, { product: 'CNC' }, 'CNC', ist(15, 25)).status).toBe('OPEN');
    expect(accept(broker, {}, 'NEXT', ist(9, 15, 0, '2026-05-21')).status).toBe('OPEN');
    expect(accept(new PaperBroker(), {}, 'EARLY', ist(15, 19, 59)).status).toBe('OPEN');
  });

  it('follows a configured cut-off', () => {
    const broker = holding(10, 'BUY', new PaperBroker({ squareOffMinute: 15 * 60 }));
    expect(squareOffs(broker.onTicks([tick(1_000_00, { exchangeTimeMs: ist(14, 59, 59) })]))).toEqual([]);
    expect(squareOffs(broker.onTicks([tick(1_000_00, { exchangeTimeMs: ist(15, 0) })]))).toMatchObject([{ quantity: 10 }]);
  });

  it('squares off, late, on the next tick when the symbol had no tick after the cut-off that day', () => {
    const broker = holding(10);
    broker.onTicks([tick(1_000_00, { exchangeTimeMs: ist(15, 15) })]);
    const events = broker.onTicks([tick(990_00, { exchangeTimeMs: ist(9, 15, 0, '2026-05-21') })]);
    expect(squareOffs(events)).toMatchObject([{ quantity: 10, late: true }]);
    expect(fills(events)).toMatchObject([{ side: 'SELL', quantity: 10, pricePaise: 990_00 }]);
  });

  it('keeps positions and the due cut-off in its snapshot: a restored broker squares off the same way', () => {
    const broker = holding(12);
    const restored = PaperBroker.restore(JSON.parse(JSON.stringify(broker.snapshot())) as PaperBrokerSnapshot);
    expect(restored.openMisPositions()).toMatchObject([{ strategyId: 's1', symbol: 'INFY', net: 12 }]);
    const later = tick(1_000_00, { exchangeTimeMs: ist(15, 20, 5) });
    const strip = (events: readonly BrokerEvent[]): unknown => JSON.parse(JSON.stringify(events));
    expect(strip(restored.onTicks([later]))).toEqual(strip(broker.onTicks([later])));
  });
});

describe('paper broker: the call-and-trade fee of square-off orders', () => {
  it('charges each square-off order ₹50 + 18% GST once on top of the charges the same sells pay as ordinary orders', () => {
    const fee = 50_00 + (50_00 * 18) / 100; // ₹59, written out
    const squaredOff = holding(75_001);
    const closing = tick(1_002_00, { exchangeTimeMs: ist(15, 20), lastQuantity: 10_000_000 });
    const bySquareOff = squaredOff.onTicks([closing]).flatMap((e) => (e.kind === 'fill' ? [e] : []));
    // the twin: the same position closed by the trader's own MIS sells of the same sizes on the same tick (its cut-off moved out of the way)
    const twin = holding(75_001, 'BUY', new PaperBroker({ squareOffMinute: 23 * 60 + 59 }));
    [30_000, 30_000, 15_001].forEach((quantity, index) => accept(twin, { side: 'SELL', quantity, strategyId: 's1' }, `OWN${index}`, ist(15, 19)));
    const byTrader = twin.onTicks([closing]).flatMap((e) => (e.kind === 'fill' ? [e] : []));

    expect(bySquareOff.map((e) => e.fill.quantity)).toEqual([30_000, 30_000, 15_001]);
    expect(byTrader.map((e) => e.fill.quantity)).toEqual([30_000, 30_000, 15_001]);
    bySquareOff.forEach((event, index) => {
      expect(event.charges.callAndTradePaise).toBe(fee);
      expect(event.fill.chargesPaise).toBe(byTrader[index]!.fill.chargesPaise + fee);
    });
  });

  it('charges the fee once per order across partial fills', () => {
    const broker = holding(100, 'BUY', new PaperBroker({ participationPercent: 50 }));
    const events = [1, 2, 3].flatMap((second) => broker.onTicks([tick(1_000_00, { exchangeTimeMs: ist(15, 20, second), lastQuantity: 80 })]));
    const squareOffFills = events.flatMap((e) =>
      e.kind === 'fill' && e.order.reason === 'auto-square-off' ? [[e.fill.quantity, e.charges.callAndTradePaise]] : [],
    );
    expect(squareOffFills).toEqual([
      [40, 59_00],
      [40, 0],
      [20, 0],
    ]);
  });
});
