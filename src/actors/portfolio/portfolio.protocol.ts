import type { ActorRef } from '../core/index.js';
import type { Fill, PortfolioState, PortfolioSummary, Tick } from '../../model/index.js';

/**
 * Protocol of a portfolio actor (one per portfolio, under `portfolios`). Fills come from
 * the execution actor, last prices from symbol actors (conflated), queries from the gateway.
 */
export type PortfolioCommand =
  | { readonly type: 'ApplyFill'; readonly fill: Fill }
  /** Several fills, in order: one batch of broker events. */
  | { readonly type: 'ApplyFills'; readonly fills: readonly Fill[] }
  /** Latest tick per symbol since the actor last ran (conflated: older ones were replaced). */
  | { readonly type: 'Marks'; readonly ticks: readonly Tick[] }
  | { readonly type: 'GetPortfolio'; readonly replyTo: ActorRef<PortfolioView> };

export interface PortfolioView {
  readonly state: PortfolioState;
  readonly summary: PortfolioSummary;
}
