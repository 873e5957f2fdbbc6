import type { Bar, Tick } from './market.js';
import type { Fill } from './fill.js';
import type { Order, OrderIntent } from './order.js';
import type { Position } from './position.js';
import type { PortfolioSummary } from './portfolio.js';

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

export type DomainEvent =
  | MarketDataUpdate
  | BarClosed
  | OrderSubmitted
  | OrderUpdated
  | OrderFilled
  | PositionChanged
  | RiskAlert
  | ActorRestarted;

export type DomainEventType = DomainEvent['type'];

/** Exhaustiveness helper for switches over unions. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
