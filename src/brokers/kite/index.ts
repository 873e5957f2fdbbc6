/** The Zerodha Kite broker adapter. */
export * from './errors.js';
export * from './rate-limiter.js';
export * from './kite-broker.js';
export * from './order-view.js';
export * from './ticker.js';
