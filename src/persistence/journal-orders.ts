/**
 * The order journal: the execution actor's {@link Journal}. One append is one transaction that
 * writes the journal entries AND projects them into the query tables the API lists from:
 * `orders` (upsert by client order id, the entry latest in the journal wins: `journal_sequence`; with the intent's `reason` and
 * `explanation`, read back by `order-queries.ts`) and `trades` (insert, once per fill id). When `append` resolves, entries and projections are committed together, so the tables
 * never show an order or a fill the journal does not have.
 *
 * Entry types (`OrderJournalEntry` in `src/actors/journal.ts`; stream `execution/paper` for the paper broker):
 * - `OrderPlaced` `{ order }`: an approved order, journaled before it goes to the broker;
 * - `OrderUpdated` `{ order }`: a state change the broker reported;
 * - `Fill` `{ fill, order }`: an execution, with the order after it;
 * - `OrderReconciled` `{ order, reason }`: recovery corrected the order from the broker's truth.
 */
import type { Fill, Order } from '../model/index.js';
import type { Database, Queryable } from './database.js';
import { SqlJournal } from './journal.js';
import type { Journal, JournalEntry, JournalRecord } from '../actors/journal.js';
import { insertColumns, timestampColumn } from './columns.js';
import { checkFences, type Fence } from './lease.js';

/** An order as of one journal entry, and that entry's sequence. */
interface Versioned {
  readonly order: Order;
  readonly sequence: number;
}

/** An `orders` row per order version: the order as of a journal entry, and that entry's sequence. */
const ORDER_COLUMNS = insertColumns<Versioned>({
  client_order_id: ['text', ({ order }) => order.clientOrderId],
  broker_order_id: ['text', ({ order }) => order.brokerOrderId ?? null],
  intent_id: ['text', ({ order }) => order.intentId],
  portfolio_id: ['text', ({ order }) => order.portfolioId],
  strategy_id: ['text', ({ order }) => order.strategyId],
  symbol: ['text', ({ order }) => order.symbol],
  side: ['text', ({ order }) => order.side],
  order_type: ['text', ({ order }) => order.orderType],
  product: ['text', ({ order }) => order.product],
  validity: ['text', ({ order }) => order.validity],
  quantity: ['int', ({ order }) => order.quantity],
  limit_price_paise: ['bigint', ({ order }) => order.limitPricePaise ?? null],
  trigger_price_paise: ['bigint', ({ order }) => order.triggerPricePaise ?? null],
  status: ['text', ({ order }) => order.status],
  status_message: ['text', ({ order }) => order.statusMessage ?? null],
  filled_quantity: ['int', ({ order }) => order.filledQuantity],
  cancelled_quantity: ['int', ({ order }) => order.cancelledQuantity],
  filled_value_paise: ['bigint', ({ order }) => order.filledValuePaise],
  created_at: timestampColumn(({ order }) => order.createdAtMs),
  updated_at: timestampColumn(({ order }) => order.updatedAtMs),
  reason: ['text', ({ order }) => order.reason ?? null],
  explanation: ['jsonb', ({ order }) => (order.explanation === undefined ? null : JSON.stringify(order.explanation))],
  journal_sequence: ['bigint', ({ sequence }) => sequence],
});

/**
 * Upserts each order's row. A row moves only forward in the journal: it is updated only by an
 * entry of a greater sequence than the one it shows (`journal_sequence`). Never by a clock: the
 * market clock of a restarted process starts earlier than the last run's, so `updatedAtMs` may go
 * back while the journal goes on.
 */
async function projectOrders(tx: Queryable, versions: readonly Versioned[]): Promise<void> {
  if (versions.length === 0) return;
  await tx.query(
    `INSERT INTO orders ${ORDER_COLUMNS.list} SELECT * FROM ${ORDER_COLUMNS.unnest}
     ON CONFLICT (client_order_id) DO UPDATE SET
       broker_order_id = COALESCE(EXCLUDED.broker_order_id, orders.broker_order_id), status = EXCLUDED.status, status_message = EXCLUDED.status_message,
       filled_quantity = EXCLUDED.filled_quantity, cancelled_quantity = EXCLUDED.cancelled_quantity, filled_value_paise = EXCLUDED.filled_value_paise,
       updated_at = EXCLUDED.updated_at,
       reason = COALESCE(EXCLUDED.reason, orders.reason), explanation = COALESCE(EXCLUDED.explanation, orders.explanation),
       journal_sequence = EXCLUDED.journal_sequence
     WHERE orders.journal_sequence IS NULL OR orders.journal_sequence < EXCLUDED.journal_sequence`,
    ORDER_COLUMNS.params(versions),
  );
}

/** A `trades` row per fill. */
const TRADE_COLUMNS = insertColumns<Fill>({
  fill_id: ['text', (f) => f.fillId],
  client_order_id: ['text', (f) => f.clientOrderId],
  broker_order_id: ['text', (f) => f.brokerOrderId],
  portfolio_id: ['text', (f) => f.portfolioId],
  strategy_id: ['text', (f) => f.strategyId],
  symbol: ['text', (f) => f.symbol],
  side: ['text', (f) => f.side],
  product: ['text', (f) => f.product],
  quantity: ['int', (f) => f.quantity],
  price_paise: ['bigint', (f) => f.pricePaise],
  charges_paise: ['bigint', (f) => f.chargesPaise],
  executed_at: timestampColumn((f) => f.atMs),
});

async function projectTrades(tx: Queryable, fills: readonly Fill[]): Promise<void> {
  if (fills.length === 0) return;
  await tx.query(
    `INSERT INTO trades ${TRADE_COLUMNS.list} SELECT * FROM ${TRADE_COLUMNS.unnest} ON CONFLICT (fill_id) DO NOTHING`,
    TRADE_COLUMNS.params(fills),
  );
}

/**
 * {@link Journal} that also maintains `orders` and `trades` in the same transaction. Reads go to
 * the plain journal table.
 */
export class OrderJournal implements Journal {
  private readonly reader: SqlJournal;

  /**
   * `fences`: the writer's current single-writer fences (a `LeaseKeeper`'s `fences`). Each append
   * checks them in its transaction and refuses (`StaleFenceError`) when another process has a
   * newer token; an empty list refuses too (leases lost or released). Omitted: no fencing.
   */
  constructor(
    private readonly db: Database,
    private readonly options: { readonly fences?: () => readonly Fence[] } = {},
  ) {
    this.reader = new SqlJournal(db);
  }

  async append(entries: readonly JournalEntry[]): Promise<number[]> {
    if (entries.length === 0) return [];
    return this.db.transaction(async (tx) => {
      // durable means durable, whatever the server's default (a server may run synchronous_commit=off)
      if (this.db.kind === 'postgres') await tx.exec('SET LOCAL synchronous_commit = on');
      let fence: number | undefined;
      if (this.options.fences) {
        const fences = this.options.fences();
        if (fences.length === 0) throw new Error('this process holds no single-writer lease: journal write refused');
        await checkFences(tx, fences);
        fence = fences[0]!.token;
      }
      // sequences come back ascending, in the order of the entries
      const sequences = await new SqlJournal(tx).append(entries, fence);
      const latest = new Map<string, Versioned>();
      const fills: Fill[] = [];
      entries.forEach((entry, index) => {
        const payload = entry.payload as { order?: Order; fill?: Fill } | null;
        if (payload?.order) latest.set(payload.order.clientOrderId, { order: payload.order, sequence: sequences[index]! });
        if (entry.type === 'Fill' && payload?.fill) fills.push(payload.fill);
      });
      await projectOrders(tx, [...latest.values()]);
      await projectTrades(tx, fills);
      return sequences;
    });
  }

  readAfter(sequence: number, options?: { readonly stream?: string; readonly limit?: number }): Promise<JournalRecord[]> {
    return this.reader.readAfter(sequence, options);
  }
}
