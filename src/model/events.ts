import type { Bar, Tick } from './market.js';
import type { Fill } from './fill.js';
import type { Order, OrderIntent, SignalContribution } from './order.js';
import type { Position } from './position.js';
import type { PortfolioSummary } from './portfolio.js';
import type { Prediction } from './prediction.js';

/**
 * Domain events: what happened, in the past tense. Published on the runtime's event bus,
 * journaled where durable, streamed to the gateway. All readonly, JSON-safe, discriminated
 * by `type`.
 */

/** A batch of market data for one symbol, in arrival order. */
export interface MarketDataUpdate {
  readonly type: 'MarketDataUpdate';
  readonly symbol: string;
  readonly ticks: readonly Tick[];
}

export interface BarClosed {
  readonly type: 'BarClosed';
  readonly bar: Bar;
}

export interface OrderSubmitted {
  readonly type: 'OrderSubmitted';
  readonly order: Order;
}

export interface OrderUpdated {
  readonly type: 'OrderUpdated';
  readonly order: Order;
}

export interface OrderFilled {
  readonly type: 'OrderFilled';
  readonly fill: Fill;
  readonly order: Order;
}

export interface PositionChanged {
  readonly type: 'PositionChanged';
  readonly portfolioId: string;
  readonly position: Position;
  readonly summary: PortfolioSummary;
}

export type RiskSeverity = 'info' | 'warning' | 'critical';

/** A risk check that failed, a limit breached, a discrepancy found: always with a reason. */
export interface RiskAlert {
  readonly type: 'RiskAlert';
  readonly severity: RiskSeverity;
  /** Stable machine code, e.g. "max-order-value". */
  readonly code: string;
  readonly message: string;
  readonly atMs: number;
  readonly intent?: OrderIntent;
  readonly strategyId?: string;
  readonly symbol?: string;
}

export interface ActorRestarted {
  readonly type: 'ActorRestarted';
  readonly path: string;
  readonly reason: string;
  readonly restarts: number;
  readonly atMs: number;
}

/** A market regime, as the regime detector classifies bars (strategies may declare the ones they trade in). */
export type Regime = 'trending' | 'ranging' | 'high-volatility';

/** The symbol name {@link RegimeChanged} uses for the whole market. */
export const MARKET_REGIME_SYMBOL = 'MARKET';

/**
 * The regime of a symbol (or of the whole market, `symbol: 'MARKET'`) changed. Published by
 * the regime actor after hysteresis; `from` is null for the first classification.
 */
export interface RegimeChanged {
  readonly type: 'RegimeChanged';
  readonly symbol: string;
  readonly from: Regime | null;
  readonly to: Regime;
  /** Start time of the bar that confirmed the change, epoch ms. */
  readonly atMs: number;
  /** The numbers behind the decision (ADX, efficiency ratio, volatility percentile…; for the market, counts per regime). */
  readonly evidence: Readonly<Record<string, number>>;
}

/**
 * The signal aggregator's decision for a symbol changed. Published by the aggregator actor;
 * `summary` is a sentence for people and goes into an order's reason.
 */
export interface SignalAggregated {
  readonly type: 'SignalAggregated';
  readonly symbol: string;
  readonly decision: 'BUY' | 'SELL' | 'FLAT';
  /** Weighted score, −1…1. */
  readonly score: number;
  /** |score| when a side won, else 0. */
  readonly confidence: number;
  readonly atMs: number;
  readonly contributions: readonly SignalContribution[];
  readonly summary: string;
}

/**
 * The broker closed an open intraday (MIS) position at the cut-off (Zerodha's auto square-off,
 * 15:20 IST): the safety net when a strategy did not exit in time. The orders (reason
 * `auto-square-off`, at most 30,000 units each, each charged the call-and-trade fee) follow
 * as ordinary order events and fills.
 */
export interface AutoSquareOff {
  readonly type: 'AutoSquareOff';
  readonly portfolioId: string;
  /** The strategy whose position it was (the orders carry its id; its host hears the fills). */
  readonly strategyId: string;
  readonly symbol: string;
  readonly side: 'BUY' | 'SELL';
  /** Units closed. */
  readonly quantity: number;
  /** Client order ids of the square-off orders. */
  readonly orders: readonly string[];
  readonly atMs: number;
  /** The symbol had no tick between that day's cut-off and the day's end: squared off on its next tick. */
  readonly late: boolean;
}

/** A model's prediction for a symbol at a bar close (the ML actor, `src/actors/ml`). */
export interface PredictionMade {
  readonly type: 'PredictionMade';
  readonly prediction: Prediction;
}

export type DomainEvent =
  | AutoSquareOff
  | PredictionMade
  | MarketDataUpdate
  | BarClosed
  | OrderSubmitted
  | OrderUpdated
  | OrderFilled
  | PositionChanged
  | RiskAlert
  | ActorRestarted
  | RegimeChanged
  | SignalAggregated;

export type DomainEventType = DomainEvent['type'];

/** Exhaustiveness helper for switches over unions. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
