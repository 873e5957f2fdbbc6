import type { ActorRef, PipeResult } from '../core/index.js';
import type { BrokerEvent, OrderChange } from './broker-port.js';
import type { Order, Tick } from '../../model/index.js';

export type { OrderChange } from './broker-port.js';

/**
 * What the execution actor has handed to the journal and will act on once it is durable:
 * an approved order (`place`: send it to the broker) or broker events (`events`: report them).
 */
export type JournalItem =
  | { readonly kind: 'place'; readonly order: Order; readonly triggerReceivedMonoMs?: number }
  | { readonly kind: 'events'; readonly events: readonly BrokerEvent[] };

/** An approved order, with the receive time of the tick that caused it when it is the pipeline's (latency). */
export interface OrderToPlace {
  readonly order: Order;
  readonly triggerReceivedMonoMs?: number;
}

/**
 * Protocol of the execution actor (one per process, `/execution/<venue>`, whatever the broker).
 * Risk sends approved orders; strategies and the gateway send cancels and modifications; symbol
 * actors feed market data through the actor's inlet (the paper broker matches on it). Outcomes
 * go to the strategy, the portfolio, risk and the event bus.
 */
export type ExecutionCommand =
  /** An order risk approved. Idempotent per clientOrderId: a repeat is ignored (refused in journal mode). */
  | ({ readonly type: 'PlaceOrder' } & OrderToPlace)
  /** Orders risk approved in one run, in the order it approved them: each as a `PlaceOrder`. */
  | { readonly type: 'PlaceOrders'; readonly orders: readonly OrderToPlace[] }
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

/** What the venue's side of the process tells the execution actor (the Kite ticker and the poll timer; the paper broker ignores them). */
export type VenueInput =
  /** An order update the venue pushed (Kite: a postback's raw order fields); the adapter decodes it. */
  | { readonly type: 'OrderPostback'; readonly payload: unknown }
  /** Polling fallback (timer) and reconciliation after a ticker gap: catch up with the venue. */
  | { readonly type: 'PollOrders'; readonly reason?: string }
  /** A new login succeeded: order placement may resume. */
  | { readonly type: 'SessionRenewed' };

/** Everything others may send the execution actor. */
export type ExecutionInput = ExecutionCommand | VenueInput;

/** What the execution actor receives: its inputs plus its own internal messages (`V`: the adapter's I/O outcomes). */
export type ExecutionMessage<V> =
  | ExecutionInput
  /** Internal (journal mode): an append of `batch` finished; on success its items are acted on. */
  | { readonly type: 'JournalAppended'; readonly batch: readonly JournalItem[]; readonly result: PipeResult<number[]> }
  /** Internal (journal mode): time to retry appending what is waiting after a failure. */
  | { readonly type: 'JournalRetry' }
  /** Internal: the outcome of the broker adapter's own I/O, handed back to it. */
  | { readonly type: 'Venue'; readonly message: V };
