/** The Kite Connect v3 compatible simulator (REST, ticker, matching engine, fault switches). */
export * from './kite-simulator.js';
export * from './exchange.js';
export * from './order-book.js';
export * from './ticker-codec.js';
export * from './rate-limit.js';
export * from './market-feed.js';
export * from './kite-errors.js';
export * from './format.js';
