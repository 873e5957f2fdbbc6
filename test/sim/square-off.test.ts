import { describe, expect, it } from 'vitest';
import { nseEquity } from '../../src/model/instrument.js';
import type { Tick } from '../../src/model/market.js';
import { SimulatedExchange, type KiteJson } from '../../src/sim/exchange.js';

/** IST wall time on 2026-05-20 (a Wednesday), from the UTC+05:30 offset. */
const ist = (hh: number, mm: number, ss = 0): number => Date.parse('2026-05-20T00:00:00Z') - 330 * 60_000 + ((hh * 60 + mm) * 60 + ss) * 1000;
const INFY = { ...nseEquity('INFY', 408_065, 1_000_00), freezeQuantity: 1_000_000 };

function exchangeAt(clock: { now: number }): SimulatedExchange {
  return new SimulatedExchange({
    instruments: [INFY],
    seed: 7,
    nowMs: () => clock.now,
    enforceMarketHours: true,
    requireMarketProtection: false,
    openingCashPaise: 1_000_000_000_00,
    onOrderUpdate: () => undefined,
  });
}

const tick = (atMs: number, volume: number): Tick => ({
  type: 'tick',
  symbol: 'INFY',
  token: 408_065,
  ltpPaise: 1_000_00,
  lastQuantity: 100,
  volume,
  exchangeTimeMs: atMs,
});
const order = (side: string, quantity: number, product = 'MIS', extra: Record<string, string> = {}) => ({
  variety: 'regular',
  params: new Map(
    Object.entries({
      exchange: 'NSE',
      tradingsymbol: 'INFY',
      transaction_type: side,
      order_type: 'MARKET',
      quantity: String(quantity),
      product,
      tag: 'TROUPE1',
      ...extra,
    }),
  ),
});
const misNet = (exchange: SimulatedExchange): unknown => exchange.positions('u1').net.find((row: KiteJson) => row['product'] === 'MIS')?.['quantity'];

describe('Kite simulator: the RMS squares off MIS positions at 15:20 IST', () => {
  it('closes an open MIS position with an untagged MARKET order (sliced at 30,000 like the paper broker) on the first tick at or after 15:20, and refuses new MIS orders after it', () => {
    const clock = { now: ist(10, 0) };
    const exchange = exchangeAt(clock);
    exchange.onMarketTick(tick(ist(10, 0), 1_000));
    exchange.placeOrder('u1', order('BUY', 50));
    exchange.placeOrder('u1', order('BUY', 5, 'CNC'));
    expect(misNet(exchange)).toBe(50);

    clock.now = ist(15, 19, 59);
    exchange.onMarketTick(tick(clock.now, 2_000));
    expect(misNet(exchange)).toBe(50);

    clock.now = ist(15, 20);
    exchange.onMarketTick(tick(clock.now, 3_000));
    const rms = exchange.orders('u1').filter((row) => row['tag'] === null);
    expect(rms.map((row) => [row['transaction_type'], row['quantity'], row['order_type'], row['product'], row['status']])).toEqual([
      ['SELL', 50, 'MARKET', 'MIS', 'COMPLETE'],
    ]);
    expect(misNet(exchange)).toBe(0);
    expect(exchange.positions('u1').net.find((row: KiteJson) => row['product'] === 'CNC')?.['quantity']).toBe(5);

    clock.now = ist(15, 25);
    const refused = exchange.placeOrder('u1', order('BUY', 1));
    const refusedRow = exchange.orders('u1').find((row) => row['order_id'] === refused);
    expect(refusedRow?.['status']).toBe('REJECTED');
    expect(String(refusedRow?.['status_message'])).toMatch(/no new MIS orders after 15:20 IST/);
    // once a day
    exchange.onMarketTick(tick(clock.now, 4_000));
    expect(exchange.orders('u1').filter((row) => row['tag'] === null)).toHaveLength(1);
  });
});
