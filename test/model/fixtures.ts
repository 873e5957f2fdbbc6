/** Stubs with defaults for every field, for model and broker tests. */
import type { Fill } from '../../src/model/fill.js';
import { newOrder, type Order, type OrderIntent } from '../../src/model/order.js';

/** An order intent with defaults: buy 10 INFY at market, MIS, DAY. */
export function intent(overrides: Partial<OrderIntent> = {}): OrderIntent {
  return {
    type: 'order-intent',
    intentId: 'i-1',
    strategyId: 'ema-cross',
    portfolioId: 'pf-1',
    symbol: 'INFY',
    side: 'BUY',
    quantity: 10,
    orderType: 'MARKET',
    product: 'MIS',
    validity: 'DAY',
    createdAtMs: 1_000,
    ...overrides,
  };
}

/** A fresh order (status PUT ORDER REQ RECEIVED) from {@link intent}. */
export function order(overrides: Partial<OrderIntent> = {}, clientOrderId = 'C1', atMs = 1_000): Order {
  return newOrder(intent(overrides), clientOrderId, atMs);
}

let fillCounter = 0;

/** A fill with defaults: buy 1 INFY MIS at ₹100, no charges. */
export function fill(overrides: Partial<Fill> = {}): Fill {
  fillCounter += 1;
  return {
    type: 'fill',
    fillId: `F${fillCounter}`,
    clientOrderId: 'C1',
    brokerOrderId: 'B1',
    portfolioId: 'pf-1',
    strategyId: 'ema-cross',
    symbol: 'INFY',
    side: 'BUY',
    product: 'MIS',
    quantity: 1,
    pricePaise: 100_00,
    chargesPaise: 0,
    atMs: 1_000,
    ...overrides,
  };
}
