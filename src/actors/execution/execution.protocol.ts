import type { ActorRef, PipeResult } from '../core/index.js';
import type { BrokerEvent } from '../../brokers/paper/index.js';
import type { Order, Tick } from '../../model/index.js';

/** What a ModifyOrder changes (at least one field). */
export interface OrderChange {
  readonly quantity?: number;
  readonly limitPricePaise?: number;
  readonly triggerPricePaise?: number;
}

/**
 * What the execution actor has handed to the journal and will act on once it is durable:
 * an approved order (`place`: submit it to the broker) or broker events (`events`: report them).
 */
export type JournalItem =
  | { readonly kind: 'place'; readonly order: Order; readonly triggerReceivedMonoMs?: number }
  | { readonly kind: 'events'; readonly events: readonly BrokerEvent[] };

/**
 * Protocol of an execution actor (one per broker, under `execution`). Risk sends approved
 * orders; strategies and the gateway send cancels; symbol actors feed market data through
 * the actor's inlet (the paper broker matches on it). Outcomes go to the strategy, the
 * portfolio, risk and the event bus.
 */
export type ExecutionCommand =
  /** An order risk approved. Idempotent per clientOrderId: a repeat is ignored. */
  | { readonly type: 'PlaceOrder'; readonly order: Order; readonly triggerReceivedMonoMs?: number }
  | { readonly type: 'CancelOrder'; readonly clientOrderId: string; readonly requestedBy: string }
  /**
   * Changes a working order's limit/trigger price or lowers its quantity (never below what is
   * filled; an increase needs a new order through risk). The outcome is an `OrderUpdated`;
   * a refusal is logged and published as a RiskAlert (`modify-rejected`).
   */
  | { readonly type: 'ModifyOrder'; readonly clientOrderId: string; readonly change: OrderChange; readonly requestedBy: string }
  | { readonly type: 'MarketData'; readonly batches: readonly (readonly Tick[])[] }
  /** Replies with every order of the session, newest last. */
  | { readonly type: 'GetOrders'; readonly replyTo: ActorRef<readonly Order[]> };

/** What the paper execution actor receives: the commands plus its own journal results (journal mode). */
export type PaperExecutionMessage =
  | ExecutionCommand
  /** Internal (journal mode): an append of `batch` finished; on success its items are acted on. */
  | { readonly type: 'JournalAppended'; readonly batch: readonly JournalItem[]; readonly result: PipeResult<number[]> }
  /** Internal (journal mode): time to retry appending what is waiting after a failure. */
  | { readonly type: 'JournalRetry' };
