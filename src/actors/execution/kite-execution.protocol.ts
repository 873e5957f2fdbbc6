import type { PipeResult } from '../core/index.js';
import type { KiteOrderView, KiteTradeView } from '../../brokers/kite/kite-broker.js';
import type { ExecutionCommand } from './execution.protocol.js';

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
  | { readonly type: 'OrdersPolled'; readonly result: PipeResult<KiteOrderView[]> }
  | { readonly type: 'TradesFetched'; readonly clientOrderId: string; readonly result: PipeResult<KiteTradeView[]> };
