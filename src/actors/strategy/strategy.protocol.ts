import type { ActorRef } from '../core/index.js';
import type { Bar, Prediction, Regime, SignalAggregated, Tick } from '../../model/index.js';
import type { PendingIntent, RefusedIntent, StrategyOrderEvent } from '../../strategies/api.js';

/**
 * Protocol of a strategy actor (one per strategy instance, under `strategies`).
 * Market data comes from symbol actors through inlets; order events from the execution
 * actor and refusals from the risk actor; commands from the gateway.
 */
export type StrategyCommand =
  | { readonly type: 'MarketData'; readonly batches: readonly (readonly Tick[])[] }
  | { readonly type: 'BarsClosed'; readonly bars: readonly Bar[] }
  /** An outcome of one of this strategy's intents. */
  | { readonly type: 'OrderEvent'; readonly event: StrategyOrderEvent }
  /** Several outcomes, in order: what one batch of broker events meant for this strategy (one message, one flush). */
  | { readonly type: 'OrderEvents'; readonly events: readonly StrategyOrderEvent[] }
  /**
   * From risk: the intent passed every check but the orders-per-second limits, so it waits in
   * risk's pacing queue (it stays working: the strategy must not send it again).
   */
  | { readonly type: 'IntentPaced'; readonly intentId: string; readonly symbol: string; readonly reason: string; readonly atMs: number }
  /** From risk: a queued intent was sent on to execution (its order events follow). */
  | { readonly type: 'IntentReleased'; readonly intentId: string; readonly atMs: number }
  /**
   * Regimes that changed, by symbol (`MARKET` for the whole market): sent by the runtime for
   * every `RegimeChanged` the regime actor publishes, and once with all known regimes when the
   * strategy is spawned. Kept in the host state (snapshotted); gates new entries.
   */
  | { readonly type: 'RegimesChanged'; readonly regimes: Readonly<Record<string, Regime>> }
  /** The aggregator's votes on symbols this strategy subscribed to (`aggregates`), for `onAggregate`. Not persisted. */
  | { readonly type: 'SignalsAggregated'; readonly decisions: readonly Omit<SignalAggregated, 'type'>[] }
  /** Predictions of the live ML model on symbols this strategy subscribed to (`predictions`), for `onPrediction`; from the runtime (relayed from `/ml/<kind>`). Not persisted. */
  | { readonly type: 'PredictionsMade'; readonly predictions: readonly Prediction[] }
  /** Stop feeding the strategy (it places nothing while paused); Resume undoes it. */
  | { readonly type: 'Pause' }
  | { readonly type: 'Resume' }
  | { readonly type: 'GetStatus'; readonly replyTo: ActorRef<StrategyStatus> };

/** An intent that is not closed yet. */
export interface WorkingIntent {
  readonly symbol: string;
  readonly clientOrderId: string;
  /** Signed quantity not yet filled. */
  remaining: number;
}

/** The host's state around the plugin's own state. Snapshotted. */
export interface StrategyHostState<S = unknown> {
  strategy: S;
  /** Next intent number; ids are `${strategyId}:${sequence}` and never reused. */
  sequence: number;
  /** This strategy's own net quantity per symbol (its virtual sub-position). */
  positions: Record<string, number>;
  /** Intents sent and not closed, by intent id (a Map: one is added and removed per order). */
  working: Map<string, WorkingIntent>;
  workingBySymbol: Record<string, number>;
  paused: boolean;
  /** Intents waiting in risk's pacing queue, by intent id (they are in `working` too). */
  pending: Map<string, PendingIntent>;
  /** The latest refused intents, oldest first, at most `REFUSED_INTENTS_KEPT`. */
  refused: RefusedIntent[];
  /** The latest regime per symbol and for `MARKET`, as published by the regime actor. */
  regimes: Record<string, Regime>;
  /**
   * `intents` submitted (gated ones included); `rejected`: refused by risk or by the regime
   * gate; `gated`: of those, refused or cut by the regime gate; `signals` sent to the aggregator;
   * `paced`: intents risk queued for the orders-per-second limits (they were sent later or refused).
   */
  stats: { ticks: number; bars: number; intents: number; rejected: number; fills: number; gated: number; signals: number; paced: number };
}

export interface StrategyStatus {
  readonly strategyId: string;
  readonly kind: string;
  readonly paused: boolean;
  readonly positions: Readonly<Record<string, number>>;
  readonly workingIntents: number;
  /** Intents waiting in risk's pacing queue. */
  readonly pendingIntents: readonly PendingIntent[];
  /** The latest refused intents, oldest first. */
  readonly refusedIntents: readonly RefusedIntent[];
  /** The regimes the strategy trades in (undefined: any), and the current regimes it knows. */
  readonly tradesIn?: readonly Regime[];
  readonly regimes: Readonly<Record<string, Regime>>;
  readonly stats: StrategyHostState['stats'];
}
