export * from './paper-broker.js';
export * from './paper-broker.types.js';
export * from './pricing.js';
export * from './validation.js';
