import type { ActorRef } from '../core/index.js';
import type { OrderIntent, Paise } from '../../model/index.js';
import type { ExposureView, RiskRejection } from '../../risk/limits.js';

/** The risk actor's answer, when the sender asked for one (the gateway's manual orders). */
export type RiskDecision = { readonly approved: true; readonly clientOrderId: string } | { readonly approved: false; readonly rejection: RiskRejection };

/** What the execution actor reports to risk about one broker event. */
export type RiskOutcome = Extract<RiskCommand, { readonly type: 'FillApplied' | 'OrderClosed' }>;

/** An intent and the client order id its order will carry. */
export interface IntentToEvaluate {
  readonly intent: OrderIntent;
  readonly clientOrderId: string;
}

/**
 * Protocol of the risk actor: every intent passes here before it becomes an order.
 * Strategies (and the gateway) send EvaluateIntent; the execution actor reports fills and
 * closed orders so exposures stay current.
 */
export type RiskCommand =
  | ({ readonly type: 'EvaluateIntent'; readonly replyTo?: ActorRef<RiskDecision> } & IntentToEvaluate)
  /** Intents a strategy's hook produced, in order: each evaluated as an `EvaluateIntent` (no reply). */
  | { readonly type: 'EvaluateIntents'; readonly intents: readonly IntentToEvaluate[] }
  | {
      readonly type: 'FillApplied';
      readonly portfolioId: string;
      readonly symbol: string;
      readonly signedQuantity: number;
      /** Exact fill price and charges, so the day's P&L (and the kill switch) is exact. */
      readonly pricePaise?: Paise;
      readonly chargesPaise?: Paise | undefined;
      /** The order was never reserved by risk (the broker's auto square-off): the fill leaves working quantities alone. */
      readonly unreserved?: boolean | undefined;
    }
  | { readonly type: 'OrderClosed'; readonly portfolioId: string; readonly symbol: string; readonly signedRemainder: number }
  /** A batch of broker outcomes (fills and closed orders) in the order they happened: one message for what was one report. */
  | { readonly type: 'Outcomes'; readonly outcomes: readonly RiskOutcome[] }
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
