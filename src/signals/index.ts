/** Signal aggregation (pure): a weighted vote with confidence over strategies' signals, explained. */
export {
  aggregate,
  aggregationReason,
  decide,
  DEFAULT_AGGREGATOR_CONFIG,
  emptyAggregatorState,
  recordSignal,
  toSignalAggregated,
  type Aggregation,
  type AggregatorConfig,
  type AggregatorState,
  type Signal,
  type TieRule,
} from './aggregator.js';
