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
import { checkFences, type Fence } from './lease.js';

const iso = (ms: number): string => new Date(ms).toISOString();

/** An order as of one journal entry, and that entry's sequence. */
interface Versioned {
  readonly order: Order;
  readonly sequence: number;
}

/**
 * Upserts each order's row. A row moves only forward in the journal: it is updated only by an
 * entry of a greater sequence than the one it shows (`journal_sequence`). Never by a clock: the
 * market clock of a restarted process starts earlier than the last run's, so `updatedAtMs` may go
 * back while the journal goes on.
 */
async function projectOrders(tx: Queryable, versions: readonly Versioned[]): Promise<void> {
  if (versions.length === 0) return;
  const column = <T>(pick: (order: Order) => T): T[] => versions.map((version) => pick(version.order));
  await tx.query(
    `INSERT INTO orders (client_order_id, broker_order_id, intent_id, portfolio_id, strategy_id, symbol, side, order_type, product, validity,
       quantity, limit_price_paise, trigger_price_paise, status, status_message, filled_quantity, cancelled_quantity, filled_value_paise, created_at, updated_at,
       reason, explanation, journal_sequence)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
       $11::int[], $12::bigint[], $13::bigint[], $14::text[], $15::text[], $16::int[], $17::int[], $18::bigint[], $19::timestamptz[], $20::timestamptz[],
       $21::text[], $22::jsonb[], $23::bigint[])
     ON CONFLICT (client_order_id) DO UPDATE SET
       broker_order_id = COALESCE(EXCLUDED.broker_order_id, orders.broker_order_id), status = EXCLUDED.status, status_message = EXCLUDED.status_message,
       filled_quantity = EXCLUDED.filled_quantity, cancelled_quantity = EXCLUDED.cancelled_quantity, filled_value_paise = EXCLUDED.filled_value_paise,
       updated_at = EXCLUDED.updated_at,
       reason = COALESCE(EXCLUDED.reason, orders.reason), explanation = COALESCE(EXCLUDED.explanation, orders.explanation),
       journal_sequence = EXCLUDED.journal_sequence
     WHERE orders.journal_sequence IS NULL OR orders.journal_sequence < EXCLUDED.journal_sequence`,
    [
      column((o) => o.clientOrderId),
      column((o) => o.brokerOrderId ?? null),
      column((o) => o.intentId),
      column((o) => o.portfolioId),
      column((o) => o.strategyId),
      column((o) => o.symbol),
      column((o) => o.side),
      column((o) => o.orderType),
      column((o) => o.product),
      column((o) => o.validity),
      column((o) => o.quantity),
      column((o) => o.limitPricePaise ?? null),
      column((o) => o.triggerPricePaise ?? null),
      column((o) => o.status),
      column((o) => o.statusMessage ?? null),
      column((o) => o.filledQuantity),
      column((o) => o.cancelledQuantity),
      column((o) => o.filledValuePaise),
      column((o) => iso(o.createdAtMs)),
      column((o) => iso(o.updatedAtMs)),
      column((o) => o.reason ?? null),
      column((o) => (o.explanation === undefined ? null : JSON.stringify(o.explanation))),
      versions.map((version) => version.sequence),
    ],
  );
}

async function projectTrades(tx: Queryable, fills: readonly Fill[]): Promise<void> {
  if (fills.length === 0) return;
  const column = <T>(pick: (fill: Fill) => T): T[] => fills.map(pick);
  await tx.query(
    `INSERT INTO trades (fill_id, client_order_id, broker_order_id, portfolio_id, strategy_id, symbol, side, product, quantity, price_paise, charges_paise, executed_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int[], $10::bigint[], $11::bigint[], $12::timestamptz[])
     ON CONFLICT (fill_id) DO NOTHING`,
    [
      column((f) => f.fillId),
      column((f) => f.clientOrderId),
      column((f) => f.brokerOrderId),
      column((f) => f.portfolioId),
      column((f) => f.strategyId),
      column((f) => f.symbol),
      column((f) => f.side),
      column((f) => f.product),
      column((f) => f.quantity),
      column((f) => f.pricePaise),
      column((f) => f.chargesPaise),
      column((f) => iso(f.atMs)),
    ],
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
