import { nseEquity, type Bar, type Fill, type Instrument, type OrderIntent, type Tick } from '../../src/model/index.js';

/** Stub builders with a default for every field (override what the test is about). */
export function tick(overrides: Partial<Tick> & { symbol?: string } = {}): Tick {
  return {
    type: 'tick',
    symbol: 'INFY',
    token: 257,
    ltpPaise: 150_000,
    lastQuantity: 10,
    volume: 1_000,
    exchangeTimeMs: Date.parse('2026-05-20T04:00:00Z'),
    ...overrides,
  };
}

export function bar(overrides: Partial<Bar> = {}): Bar {
  return {
    type: 'bar',
    symbol: 'INFY',
    interval: '1m',
    startMs: Date.parse('2026-05-20T04:00:00Z'),
    openPaise: 150_000,
    highPaise: 150_500,
    lowPaise: 149_500,
    closePaise: 150_200,
    volume: 1_000,
    tickCount: 0,
    ...overrides,
  };
}

export function intent(overrides: Partial<OrderIntent> = {}): OrderIntent {
  return {
    type: 'order-intent',
    intentId: 's1:0',
    strategyId: 's1',
    portfolioId: 'p1',
    symbol: 'INFY',
    side: 'BUY',
    quantity: 10,
    orderType: 'MARKET',
    product: 'MIS',
    validity: 'DAY',
    createdAtMs: Date.parse('2026-05-20T04:00:00Z'),
    ...overrides,
  };
}

/** A manual intent as the API makes it (`manual:<sequence>`, portfolio `paper`, at market-time 0). */
export function manualIntent(quantity: number, sequence: number, overrides: Partial<OrderIntent> = {}): OrderIntent {
  return intent({ intentId: `manual:${sequence}`, strategyId: 'manual', portfolioId: 'paper', quantity, createdAtMs: 0, reason: 'test', ...overrides });
}

export function fill(overrides: Partial<Fill> = {}): Fill {
  return {
    type: 'fill',
    fillId: 'F1',
    clientOrderId: 'C1',
    brokerOrderId: 'B1',
    portfolioId: 'p1',
    strategyId: 's1',
    symbol: 'INFY',
    side: 'BUY',
    product: 'MIS',
    quantity: 10,
    pricePaise: 150_000,
    chargesPaise: 0,
    atMs: Date.parse('2026-05-20T04:00:00Z'),
    ...overrides,
  };
}

export function instrument(symbol = 'INFY', pricePaise = 150_000, token = 257): Instrument {
  return nseEquity(symbol, token, pricePaise);
}

/** Ticks following a list of prices, one second apart, cumulative volume growing. */
export function ticksFromPrices(symbol: string, prices: readonly number[], startMs = Date.parse('2026-05-20T04:00:00Z')): Tick[] {
  return prices.map((ltpPaise, index) => tick({ symbol, ltpPaise, volume: (index + 1) * 10, lastQuantity: 10, exchangeTimeMs: startMs + index * 1000 }));
}
