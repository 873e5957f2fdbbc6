import type { ActorRef } from '../core/index.js';
import type { Order, Tick } from '../../model/index.js';

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
  | { readonly type: 'MarketData'; readonly batches: readonly (readonly Tick[])[] }
  /** Replies with every order of the session, newest last. */
  | { readonly type: 'GetOrders'; readonly replyTo: ActorRef<readonly Order[]> };
