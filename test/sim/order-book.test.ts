import { describe, expect, it } from 'vitest';
import { nseEquity } from '../../src/model/instrument.js';
import type { Tick } from '../../src/model/market.js';
import { SymbolBook } from '../../src/sim/order-book.js';
import { Random } from '../../src/streams/random.js';

const instrument = nseEquity('INFY', 257, 1500_00, { tickSizePaise: 10 });
const tick = (ltpPaise: number, bidQuantity = 100, askQuantity = 100): Tick => ({
  type: 'tick',
  symbol: 'INFY',
  token: 257,
  ltpPaise,
  lastQuantity: 1,
  volume: 1,
  bidPaise: ltpPaise - 10,
  askPaise: ltpPaise + 10,
  bidQuantity,
  askQuantity,
  exchangeTimeMs: 0,
});

describe('SymbolBook', () => {
  it('matches resting client orders by price, then time, before the market ladder', () => {
    const book = new SymbolBook(instrument, new Random(1));
    book.onMarketTick(tick(1500_00));
    book.rest('sell-late', 'SELL', 1500_10, 5); // same price as the ladder's best ask
    book.rest('sell-better', 'SELL', 1500_00, 3);
    book.rest('sell-later-same-price', 'SELL', 1500_10, 5);
    const { fills, remaining } = book.match({ orderId: 'buy', side: 'BUY', limitPaise: 1500_10, quantity: 12 });
    expect(remaining).toBe(0);
    const buyFills = fills.filter((f) => f.orderId === 'buy');
    expect(buyFills).toEqual([
      { orderId: 'buy', quantity: 3, pricePaise: 1500_00 },
      { orderId: 'buy', quantity: 5, pricePaise: 1500_10 },
      { orderId: 'buy', quantity: 4, pricePaise: 1500_10 },
    ]);
    expect(fills.filter((f) => f.orderId !== 'buy').map((f) => f.orderId)).toEqual(['sell-better', 'sell-late', 'sell-later-same-price']);
    expect(book.restingQuantity('sell-later-same-price')).toBe(1);
  });

  it('fills partially up to the limit and leaves the rest to the caller', () => {
    const book = new SymbolBook(instrument, new Random(1));
    book.onMarketTick(tick(1500_00, 100, 40));
    const { fills, remaining } = book.match({ orderId: 'b', side: 'BUY', limitPaise: 1500_10, quantity: 100 });
    expect(fills).toEqual([{ orderId: 'b', quantity: 40, pricePaise: 1500_10 }]);
    expect(remaining).toBe(60);
    // The ladder level is used up until the next tick.
    expect(book.match({ orderId: 'c', side: 'BUY', limitPaise: 1500_10, quantity: 1 }).remaining).toBe(1);
  });

  it('lets a new market tick trade against resting orders it crosses, at the resting price', () => {
    const book = new SymbolBook(instrument, new Random(1));
    book.onMarketTick(tick(1500_00));
    book.rest('bid', 'BUY', 1499_00, 10);
    expect(book.onMarketTick(tick(1500_00))).toEqual([]);
    const fills = book.onMarketTick(tick(1498_00, 100, 4)); // best ask 1498.10 now below the bid
    expect(fills).toEqual([
      { orderId: 'bid', quantity: 4, pricePaise: 1499_00 },
      { orderId: 'bid', quantity: 6, pricePaise: 1499_00 },
    ]);
    expect(book.restingCount).toBe(0);
  });

  it('publishes depth with client orders merged into the ladder and removes cancelled orders', () => {
    const book = new SymbolBook(instrument, new Random(1));
    book.onMarketTick(tick(1500_00, 100, 100));
    book.rest('b1', 'BUY', 1499_90, 7);
    book.rest('b2', 'BUY', 1499_95, 2);
    const depth = book.depth();
    expect(depth.buy[0]).toEqual({ pricePaise: 1499_95, quantity: 2, orders: 1 });
    expect(depth.buy[1]).toMatchObject({ pricePaise: 1499_90, quantity: 107, orders: 2 });
    expect(depth.sell[0]).toMatchObject({ pricePaise: 1500_10, quantity: 100 });
    expect(book.remove('b1')).toBe(7);
    expect(book.remove('b1')).toBe(0);
    expect(book.depth().buy[1]).toMatchObject({ pricePaise: 1499_90, quantity: 100 });
  });
});
