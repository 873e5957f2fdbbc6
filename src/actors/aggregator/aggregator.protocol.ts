import type { ActorRef } from '../core/index.js';
import type { Bar } from '../../model/index.js';
import type { Aggregation, AggregatorState, Signal } from '../../signals/index.js';

/**
 * Protocol of the signal aggregator actor (`/aggregator`). Strategies (through their host)
 * send signals; closed bars (an inlet the symbol actors feed, like the regime actor's) make
 * it vote again, so decay and expiry act in market time; anyone may ask for the current
 * decision of a symbol. Every vote is handed to the strategies that trade on the aggregate
 * (`aggregates` subscriptions); a changed decision is also published as `SignalAggregated`.
 */
export type AggregatorCommand =
  /**
   * Strategies' latest views, in the order they were given; each replaces its strategy's previous
   * one for the symbol and is voted on as it is recorded. Sent by strategy hosts (everything
   * `ctx.signal` gave during one hook run, in one message).
   */
  | { readonly type: 'SubmitSignals'; readonly signals: readonly Signal[] }
  /** Bars closed since the actor last ran: each symbol with signals is voted on again. Not persisted (the state is). */
  | { readonly type: 'BarsClosed'; readonly bars: readonly Bar[] }
  /** Replies with the vote for `symbol` now (FLAT with no signals). */
  | { readonly type: 'GetDecision'; readonly symbol: string; readonly replyTo: ActorRef<Aggregation> };

/** Snapshotted as is: the latest signal per strategy and symbol, and the last decisions. */
export type AggregatorActorState = AggregatorState;

/** Wraps a batch of bars from the aggregator's inlet. */
export const wrapAggregatorBars = (bars: readonly Bar[]): AggregatorCommand => ({ type: 'BarsClosed', bars });
