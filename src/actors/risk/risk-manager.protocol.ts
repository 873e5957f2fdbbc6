import type { ActorRef, PipeResult } from '../core/index.js';
import type { Order, Side, Tick } from '../../model/index.js';
import type { EncodedPacingQueue } from '../../risk/pacing-queue.js';
import type { EncodedRiskManager, KillSwitchState, PortfolioRisk } from '../../risk/risk-manager.js';
import type { RiskCommand, RiskState } from './risk.protocol.js';

/**
 * A fill reported by the execution actor: with `pricePaise` and `chargesPaise` the day's P&L
 * (and so the kill switch) is exact; without them the fill is valued at the last price. Not
 * persisted (the snapshot is).
 */
export type RiskFillApplied = Extract<RiskCommand, { readonly type: 'FillApplied' }>;

/** One intent in risk's pacing queue, as {@link RiskReport} lists it. */
export interface PacedIntentSummary {
  readonly intentId: string;
  readonly strategyId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly quantity: number;
  /** It reduces or closes a position (exits go before entries). */
  readonly exit: boolean;
  readonly queuedAtMs: number;
}

/** Everything the risk manager reports on request. */
export interface RiskReport {
  readonly approved: number;
  readonly rejected: number;
  readonly killSwitch: KillSwitchState | null;
  /** Intents waiting for the orders-per-second windows, in the order they will be offered (exits first). */
  readonly paced: readonly PacedIntentSummary[];
  readonly portfolios: Readonly<Record<string, PortfolioRisk>>;
}

/**
 * Protocol of the full risk manager actor (`/risk`). A superset of the minimal gate's
 * {@link RiskCommand}, so its ref fits `Directory.risk` unchanged:
 * - `EvaluateIntent`, `OrderClosed`, `GetStatus`: as before (strategies, gateway, execution).
 * - `EvaluateIntents`: a strategy's intents of one hook run, evaluated in order; the approved go to execution as one `PlaceOrders`.
 * - `FillApplied`: from the execution actor, optionally with price and charges.
 * - `Outcomes`: fills and closed orders of one broker report, in order (the execution actor's batch form).
 * - `Marks`: last prices (an inlet conflated per symbol, like the portfolios' marks); may trip the kill switch.
 * - `ResetKillSwitch`: a person re-arms trading (gateway, operator role); replies `true` when armed.
 * - `EngageKillSwitch`: a person stops trading by hand: orders refused, open ones cancelled, strategies paused.
 * - `StartDay`: begin a new trading day's P&L now (the actor also rolls over on the IST date by itself).
 * - `GetRiskReport`: replies with {@link RiskReport}.
 * - `OpenOrdersForKillSwitch`: internal, the execution actor's open orders after a trip.
 */
export type RiskManagerCommand =
  | RiskCommand
  | { readonly type: 'Marks'; readonly ticks: readonly Tick[] }
  | { readonly type: 'ResetKillSwitch'; readonly requestedBy: string; readonly replyTo?: ActorRef<boolean> }
  /** A person stops trading (the desk's kill switch); replies `true` when this engaged it, `false` when it was already tripped. */
  | { readonly type: 'EngageKillSwitch'; readonly requestedBy: string; readonly reason: string; readonly replyTo?: ActorRef<boolean> }
  | { readonly type: 'StartDay' }
  | { readonly type: 'GetRiskReport'; readonly replyTo: ActorRef<RiskReport> }
  | { readonly type: 'OpenOrdersForKillSwitch'; readonly result: PipeResult<readonly Order[]> };

/** Snapshotted counters and the IST date the day's P&L started on (the manager's books are encoded beside them). */
export interface RiskManagerState extends RiskState {
  /** IST date ("2026-05-20") of the current risk day. */
  day: string;
  /**
   * Only on a state decoded from a snapshot: the book the actor rebuilds its risk manager and
   * pacing queue from (the live book is in those, never here).
   */
  readonly restoredBook?: { readonly manager: EncodedRiskManager; readonly paced: EncodedPacingQueue };
}

/** Wraps conflated last ticks for the risk manager's mark inlet. */
export const wrapRiskMarks = (ticks: readonly Tick[]): RiskManagerCommand => ({ type: 'Marks', ticks });
