import type { ActorRef } from '../core/index.js';
import type { OrderIntent, Paise } from '../../model/index.js';
import type { ExposureView, RiskRejection } from '../../risk/limits.js';

/** The risk actor's answer, when the sender asked for one (the gateway's manual orders). */
export type RiskDecision = { readonly approved: true; readonly clientOrderId: string } | { readonly approved: false; readonly rejection: RiskRejection };

/**
 * Protocol of the risk actor: every intent passes here before it becomes an order.
 * Strategies (and the gateway) send EvaluateIntent; the execution actor reports fills and
 * closed orders so exposures stay current.
 */
export type RiskCommand =
  | { readonly type: 'EvaluateIntent'; readonly intent: OrderIntent; readonly clientOrderId: string; readonly replyTo?: ActorRef<RiskDecision> }
  | {
      readonly type: 'FillApplied';
      readonly portfolioId: string;
      readonly symbol: string;
      readonly signedQuantity: number;
      /** Exact fill price and charges, so the day's P&L (and the kill switch) is exact. */
      readonly pricePaise?: Paise;
      readonly chargesPaise?: Paise;
    }
  | { readonly type: 'OrderClosed'; readonly portfolioId: string; readonly symbol: string; readonly signedRemainder: number }
  | { readonly type: 'GetStatus'; readonly replyTo: ActorRef<RiskStatus> };

export interface RiskStatus {
  readonly approved: number;
  readonly rejected: number;
  readonly exposures: Readonly<Record<string, ExposureView>>;
}

/** Snapshotted state: the exposures; the gate's rate windows live only in memory. */
export interface RiskState {
  approved: number;
  rejected: number;
}
