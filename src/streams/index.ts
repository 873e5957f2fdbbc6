/** Market data streams: sources → validation → per symbol → bars → actors (inlets conflate). */
export * from './random.js';
export * from './pipeline.js';
export * from './sources/pump.js';
export * from './sources/synthetic-market.js';
export * from './sources/csv-replay.js';
export * from './sources/rejections.js';
export * from './operators/validate-ticks.js';
export * from './operators/route-by-symbol.js';
export * from './operators/aggregate-bars.js';
