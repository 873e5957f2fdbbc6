/** Signal aggregation (pure): a weighted vote with confidence over strategies' signals, explained. */
export {
  aggregate,
  AggregatorBook,
  aggregatorConfig,
  aggregationReason,
  decide,
  DEFAULT_AGGREGATOR_CONFIG,
  emptyAggregatorState,
  hasSignals,
  recordSignal,
  toSignalAggregated,
  type Aggregation,
  type AggregatorConfig,
  type AggregatorState,
  type Signal,
  type TieRule,
} from './aggregator.js';
