import { describe, expect, it } from 'vitest';
import { orderChangeProblem } from '../../../src/actors/execution/execution.actor.js';
import { PaperBroker } from '../../../src/brokers/paper/paper-broker.js';
import type { BrokerEvent } from '../../../src/brokers/paper/paper-broker.types.js';
import type { Order, OrderIntent } from '../../../src/model/order.js';
import { order } from '../../model/fixtures.js';
import { INFY, SESSION_MS, tick } from './fixtures.js';

const updates = (events: readonly BrokerEvent[]): Order[] => events.flatMap((e) => (e.kind === 'order-updated' ? [e.order] : []));

function place(broker: PaperBroker, overrides: Partial<OrderIntent>, clientOrderId = 'C1'): Order {
  const [event] = broker.submit(order(overrides, clientOrderId, SESSION_MS), INFY, SESSION_MS);
  if (event?.kind !== 'order-updated' || event.order.status === 'REJECTED') throw new Error(`not accepted: ${JSON.stringify(event)}`);
  return event.order;
}

describe('ModifyOrder (paper)', () => {
  it('changes a resting limit in place: the new price decides matching, the lower quantity is what fills', () => {
    const broker = new PaperBroker();
    broker.onTicks([tick(1_000_00)]);
    const placed = place(broker, { orderType: 'LIMIT', limitPricePaise: 980_00, quantity: 10 });
    expect(broker.onTicks([tick(985_00, { exchangeTimeMs: SESSION_MS + 1000 })]).filter((e) => e.kind === 'fill')).toHaveLength(0);
    const result = broker.modify(placed.clientOrderId, { limitPricePaise: 990_00, quantity: 4 }, SESSION_MS + 2000);
    expect(result.refused).toBeUndefined();
    expect(updates(result.events)).toEqual([{ ...placed, limitPricePaise: 990_00, quantity: 4, updatedAtMs: SESSION_MS + 2000 }]);
    const events = broker.onTicks([tick(985_00, { exchangeTimeMs: SESSION_MS + 3000 })]);
    const fills = events.flatMap((e) => (e.kind === 'fill' ? [e.fill] : []));
    // now marketable: it takes the market (985, better than its new limit), as a fresh limit would
    expect(fills.map((f) => [f.quantity, f.pricePaise])).toEqual([[4, 985_00]]);
    expect(updates(events).at(-1)?.status ?? events.flatMap((e) => (e.kind === 'fill' ? [e.order.status] : [])).at(-1)).toBe('COMPLETE');
    expect(broker.modify(placed.clientOrderId, { limitPricePaise: 991_00 }, SESSION_MS + 4000).refused).toMatch(/not open/);
  });

  it('validates a change: working order, something to change, quantity above filled and not larger, prices on the tick and fitting the type', () => {
    const open = { ...order({ orderType: 'LIMIT', limitPricePaise: 990_00, quantity: 10 }, 'C1', SESSION_MS), status: 'OPEN' as const, filledQuantity: 3 };
    expect(orderChangeProblem(undefined, { quantity: 1 }, INFY)).toBe('unknown order');
    expect(orderChangeProblem({ ...open, status: 'COMPLETE' }, { quantity: 5 }, INFY)).toBe('order is COMPLETE');
    expect(orderChangeProblem(open, {}, INFY)).toBe('nothing to change');
    expect(orderChangeProblem(open, { quantity: 3 }, INFY)).toMatch(/above the 3 already filled/);
    expect(orderChangeProblem(open, { quantity: 11 }, INFY)).toMatch(/new order/);
    expect(orderChangeProblem(open, { quantity: 5 }, INFY)).toBeUndefined();
    expect(orderChangeProblem(open, { limitPricePaise: 990_03 }, INFY)).toMatch(/tick size/);
    expect(orderChangeProblem(open, { limitPricePaise: 0 }, INFY)).toMatch(/positive/);
    expect(orderChangeProblem(open, { triggerPricePaise: 985_00 }, INFY)).toMatch(/LIMIT order has no trigger price/);
    expect(orderChangeProblem({ ...open, orderType: 'MARKET' }, { limitPricePaise: 990_00 }, INFY)).toMatch(/MARKET order has no limit price/);
    expect(
      orderChangeProblem({ ...open, orderType: 'SL', triggerPricePaise: 995_00 }, { triggerPricePaise: 996_00, limitPricePaise: 997_00 }, INFY),
    ).toBeUndefined();
  });
});
