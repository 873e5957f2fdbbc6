/**
 * Why an order exists, in structured form: kept with the intent, the order, the journal and
 * the backtest's result, so a person can see later which signals voted, with what weight
 * and confidence, and what the regime was. Pure data, JSON-safe.
 */

/** One strategy's signal as it counted in an aggregation (also carried by `SignalAggregated`). */
export interface SignalContribution {
  readonly strategyId: string;
  readonly direction: 'long' | 'short' | 'flat';
  /** The strategy's confidence, 0…1 (after any decay with age). */
  readonly confidence: number;
  readonly weight: number;
  /** weight × confidence × (+1 long, −1 short, 0 flat) / Σ weights. */
  readonly contribution: number;
  readonly atMs: number;
  readonly reason?: string;
}

/** The explanation attached to an intent (and so to its order). */
export interface OrderExplanation {
  /** Who decided, e.g. `"signal-aggregator"`, or a strategy kind. */
  readonly source: string;
  /** One sentence for people: the decision and why. */
  readonly summary: string;
  /** The aggregated decision this order follows, when it follows one. */
  readonly decision?: 'BUY' | 'SELL' | 'FLAT';
  /** Weighted score of the vote, −1…1. */
  readonly score?: number;
  /** |score| when a side won, else 0. */
  readonly confidence?: number;
  /** When the decision was made (epoch ms). */
  readonly atMs?: number;
  /** The signals that voted, ordered by strategy id. */
  readonly signals?: readonly SignalContribution[];
  /** The regime of the symbol (or of the market) when the intent was made, when known. */
  readonly regime?: 'trending' | 'ranging' | 'high-volatility';
}
