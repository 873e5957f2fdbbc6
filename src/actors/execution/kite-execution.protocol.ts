import type { PipeResult } from '../core/index.js';
import type { KiteOrderView, KiteTradeView } from '../../brokers/kite/kite-broker.js';
import type { BrokerEvent } from '../../brokers/paper/index.js';
import type { Order } from '../../model/index.js';
import type { ExecutionCommand, OrderChange } from './execution.protocol.js';

/** What the Kite execution actor hands to the journal before acting (journal mode). */
export type KiteJournalItem = { readonly kind: 'place'; readonly order: Order } | { readonly kind: 'events'; readonly events: readonly BrokerEvent[] };


/**
 * Protocol of the Kite execution actor: every {@link ExecutionCommand} (so it sits where the
 * paper one does) plus what Kite tells it (postbacks, polls) and the results of its own
 * REST calls, which come back as messages (`pipeToSelf`); handlers never await.
 */
export type KiteExecutionMessage =
  | ExecutionCommand
  /** An order postback from the ticker (raw Kite order fields). */
  | { readonly type: 'KiteOrderUpdate'; readonly payload: Readonly<Record<string, unknown>> }
  /** Polling fallback (timer) and reconciliation after a ticker gap: fetch the day's orders. */
  | { readonly type: 'PollOrders'; readonly reason?: string }
  /** A new login succeeded: order placement may resume. */
  | { readonly type: 'SessionRenewed' }
  | { readonly type: 'Placed'; readonly clientOrderId: string; readonly result: PipeResult<string> }
  | { readonly type: 'CancelSent'; readonly clientOrderId: string; readonly result: PipeResult<void> }
  | { readonly type: 'ModifySent'; readonly clientOrderId: string; readonly change: OrderChange; readonly result: PipeResult<void> }
  /** Journal mode: an append of `batch` finished; on success its items are acted on. */
  | { readonly type: 'KiteJournalAppended'; readonly batch: readonly KiteJournalItem[]; readonly result: PipeResult<number[]> }
  | { readonly type: 'KiteJournalRetry' }
  | { readonly type: 'OrdersPolled'; readonly result: PipeResult<KiteOrderView[]> }
  /** Trades for `orders` (for one order its own, for several the day's: each order takes those of its Kite order id). */
  | { readonly type: 'TradesFetched'; readonly orders: readonly { readonly clientOrderId: string; readonly brokerOrderId: string }[]; readonly result: PipeResult<KiteTradeView[]> };
