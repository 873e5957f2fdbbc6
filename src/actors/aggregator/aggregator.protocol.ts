import type { ActorRef } from '../core/index.js';
import type { Aggregation, AggregatorState, Signal } from '../../signals/index.js';

/**
 * Protocol of the signal aggregator actor (`/aggregator`). Strategies (through their host)
 * send signals; anyone may ask for the current decision of a symbol, whose `summary` goes
 * into an order's reason. A changed decision is published as `SignalAggregated`.
 */
export type AggregatorCommand =
  /** A strategy's latest view of a symbol; replaces its previous one. */
  | { readonly type: 'SubmitSignal'; readonly signal: Signal }
  /** Replies with the vote for `symbol` now (FLAT with no signals). */
  | { readonly type: 'GetDecision'; readonly symbol: string; readonly replyTo: ActorRef<Aggregation> };

/** Snapshotted as is: the latest signal per strategy and symbol, and the last decisions. */
export type AggregatorActorState = AggregatorState;
