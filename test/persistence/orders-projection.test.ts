/**
 * The `orders` table after restarts: a restarted process's market clock starts earlier than the
 * last run's (the synthetic day starts again at 09:15), so an order OPEN at 11:00 may be
 * cancelled at 09:20 on the clock. The projection must follow the journal's order, not the clock.
 *
 * Three runs of the real runtime on one real PostgreSQL journal: the first trades at 11:00 and
 * stops; the second restarts mid-day (clock 09:20, restored from its snapshots and the journal)
 * and cancels; the third restarts after a crash (no snapshot at all: everything from the
 * journal, clock 09:16) and cancels more. After each run, every row of `orders` must equal the
 * journal's state of that order, folded here by this test: the last entry carrying it, by sequence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, InMemorySnapshotStore } from '../../src/actors/core/index.js';
import { clientOrderIdFor, newOrder, type Order, type OrderIntent } from '../../src/model/index.js';
import { PgliteDatabase, PostgresDatabase } from '../../src/persistence/database.js';
import { OrderJournal } from '../../src/persistence/journal-orders.js';
import { EXECUTION_STREAM } from '../../src/brokers/paper/paper-adapter.js';
import { toJournalEntry } from '../../src/actors/journal.js';
import { SqlJournal } from '../../src/persistence/journal.js';
import { loadMigrations, migrate } from '../../src/persistence/migrate.js';
import { recoverFromJournal } from '../../src/persistence/recovery.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { createSyntheticMarket } from '../../src/streams/index.js';
import { usePostgres, type PostgresService } from '../support/services.js';

let service: PostgresService;
let db: PostgresDatabase;

beforeAll(async () => {
  service = await usePostgres();
  db = new PostgresDatabase(service.url);
  await migrate(db);
});

afterAll(async () => {
  await db?.close();
  await service?.stop();
});

/** 2026-03-02 at hh:mm IST, epoch ms. */
const ist = (hh: number, mm: number): number => Date.UTC(2026, 2, 2, hh, mm) - (5 * 60 + 30) * 60_000;

interface OrderRow {
  client_order_id: string;
  status: string;
  status_message: string | null;
  broker_order_id: string | null;
  filled_quantity: number;
  cancelled_quantity: number;
  filled_value_paise: number;
  updated_at: Date;
}

/** The journal folded by this test: each order as the last entry (by sequence) that carries it says. */
async function foldJournal(): Promise<Map<string, Order>> {
  const rows = await db.query<{ payload: { order?: Order } }>('SELECT payload FROM journal ORDER BY sequence');
  const orders = new Map<string, Order>();
  for (const row of rows) if (row.payload.order) orders.set(row.payload.order.clientOrderId, row.payload.order);
  return orders;
}

async function expectOrdersTableEqualsJournal(): Promise<Map<string, Order>> {
  const folded = await foldJournal();
  const rows = await db.query<OrderRow>(
    'SELECT client_order_id, status, status_message, broker_order_id, filled_quantity, cancelled_quantity, filled_value_paise, updated_at FROM orders ORDER BY client_order_id',
  );
  const table = rows.map((row) => ({
    id: row.client_order_id,
    status: row.status,
    statusMessage: row.status_message,
    brokerOrderId: row.broker_order_id,
    filled: row.filled_quantity,
    cancelled: row.cancelled_quantity,
    filledValue: row.filled_value_paise,
    updatedAtMs: row.updated_at.getTime(),
  }));
  const journal = [...folded.values()]
    .sort((a, b) => (a.clientOrderId < b.clientOrderId ? -1 : 1))
    .map((order) => ({
      id: order.clientOrderId,
      status: order.status,
      statusMessage: order.statusMessage ?? null,
      brokerOrderId: order.brokerOrderId ?? null,
      filled: order.filledQuantity,
      cancelled: order.cancelledQuantity,
      filledValue: order.filledValuePaise,
      updatedAtMs: order.updatedAtMs,
    }));
  expect(table).toEqual(journal);
  return folded;
}

describe('orders projection across restarts (real runtime, real PostgreSQL)', () => {
  it('after a restart mid-day and after a crash, every row of orders equals the journal state, though the market clock went back', async () => {
    const market = createSyntheticMarket({ symbols: 2, seed: 11, ticksPerSymbolPerSecond: 5 });
    const symbol = market.instruments[0]!.symbol;
    const portfolio = { portfolioId: 'paper', initialCashPaise: 10_000_000 * 100 };
    let now = ist(11, 0);
    const journal = new OrderJournal(db);
    const snapshots = new InMemorySnapshotStore();

    const start = async (store: InMemorySnapshotStore): Promise<Runtime> => {
      const runtime = new Runtime({ instruments: market.instruments, strategies: [], portfolio, clock: { nowMs: () => now }, journal, snapshotStore: store });
      await runtime.restoreFrom(store);
      await recoverFromJournal({ journal, target: runtime, portfolios: [portfolio], nowMs: () => now });
      runtime.start();
      // prices for the symbol: a LIMIT BUY 3 % below them rests (OPEN)
      const ticks = market.nextBatch(50).filter((tick) => tick.symbol === symbol);
      runtime.offerTicks(symbol, ticks);
      await runtime.whenIdle();
      return runtime;
    };
    const place = (runtime: Runtime, sequence: number): string => {
      const tick = market.instruments[0]!.tickSizePaise;
      const limitPricePaise = Math.floor(((runtime.cache.lastPrice(symbol) ?? 0) * 0.97) / tick) * tick;
      const intent: OrderIntent = {
        type: 'order-intent',
        intentId: `manual:${sequence}`,
        strategyId: 'manual',
        portfolioId: 'paper',
        symbol,
        side: 'BUY',
        quantity: 1,
        orderType: 'LIMIT',
        limitPricePaise,
        product: 'CNC',
        validity: 'DAY',
        createdAtMs: now,
      };
      const id = clientOrderIdFor('manual', sequence);
      runtime.system.tell(runtime.directory.requireExecution(), { type: 'PlaceOrder', order: newOrder(intent, id, now) });
      return id;
    };
    const cancel = (runtime: Runtime, clientOrderId: string): void =>
      runtime.system.tell(runtime.directory.requireExecution(), { type: 'CancelOrder', clientOrderId, requestedBy: 'test' });
    const statusOf = async (id: string): Promise<string | undefined> => (await foldJournal()).get(id)?.status;

    // run 1, 11:00–11:05: four orders rest OPEN, one is cancelled at 11:05; a graceful stop
    const first = await start(snapshots);
    const ids = [0, 1, 2, 3].map((sequence) => place(first, sequence));
    await eventually(async () => {
      for (const id of ids) expect(await statusOf(id)).toBe('OPEN');
    });
    now = ist(11, 5);
    cancel(first, ids[3]!);
    await eventually(async () => expect(await statusOf(ids[3]!)).toBe('CANCELLED'));
    await first.stop();
    await expectOrdersTableEqualsJournal();

    // run 2, restarted mid-day: the market clock starts again at 09:20; two of the orders are cancelled
    now = ist(9, 20);
    const second = await start(snapshots);
    cancel(second, ids[0]!);
    cancel(second, ids[1]!);
    await eventually(async () => {
      expect(await statusOf(ids[0]!)).toBe('CANCELLED');
      expect(await statusOf(ids[1]!)).toBe('CANCELLED');
    });
    await second.stop();
    const afterRestart = await expectOrdersTableEqualsJournal();
    expect(afterRestart.get(ids[0]!)?.updatedAtMs).toBe(ist(9, 20)); // earlier than the OPEN version it replaces

    // run 3, after a crash with no snapshot at all (everything from the journal), clock 09:16: the last one is cancelled
    now = ist(9, 16);
    const third = await start(new InMemorySnapshotStore());
    cancel(third, ids[2]!);
    await eventually(async () => expect(await statusOf(ids[2]!)).toBe('CANCELLED'));
    await third.stop();
    const afterCrash = await expectOrdersTableEqualsJournal();
    expect([...afterCrash.values()].map((order) => order.status)).toEqual(['CANCELLED', 'CANCELLED', 'CANCELLED', 'CANCELLED']);
  });
});

describe('migration 008 (orders.journal_sequence)', () => {
  it('repairs rows a clock-ordered projection left stale: each becomes the last journal entry of its order', async () => {
    const pglite = await PgliteDatabase.open('memory://');
    try {
      const migrations = loadMigrations();
      const before = migrations.findIndex((migration) => migration.name === 'orders_journal_sequence');
      expect(before).toBeGreaterThan(0);
      await migrate(pglite, migrations.slice(0, before));
      const intent: OrderIntent = {
        type: 'order-intent',
        intentId: 'manual:0',
        strategyId: 'manual',
        portfolioId: 'paper',
        symbol: 'INFY',
        side: 'BUY',
        quantity: 5,
        orderType: 'LIMIT',
        limitPricePaise: 100_000,
        product: 'CNC',
        validity: 'DAY',
        createdAtMs: ist(11, 0),
      };
      const placed = newOrder(intent, clientOrderIdFor('manual', 0), ist(11, 0));
      const open: Order = { ...placed, status: 'OPEN', brokerOrderId: 'P000000001', updatedAtMs: ist(11, 0) };
      const cancelled: Order = { ...open, status: 'CANCELLED', statusMessage: 'Cancelled by the user.', cancelledQuantity: 5, updatedAtMs: ist(9, 20) };
      // the journal says CANCELLED (last); the table, written by the old projection, says OPEN
      await new SqlJournal(pglite).append([
        toJournalEntry(EXECUTION_STREAM, { type: 'OrderPlaced', order: placed }),
        toJournalEntry(EXECUTION_STREAM, { type: 'OrderUpdated', order: open }),
        toJournalEntry(EXECUTION_STREAM, { type: 'OrderUpdated', order: cancelled }),
      ]);
      await pglite.query(
        `INSERT INTO orders (client_order_id, broker_order_id, intent_id, portfolio_id, strategy_id, symbol, side, order_type, product, validity, quantity, status, created_at, updated_at)
         VALUES ($1, 'P000000001', 'manual:0', 'paper', 'manual', 'INFY', 'BUY', 'LIMIT', 'CNC', 'DAY', 5, 'OPEN', $2, $2)`,
        [placed.clientOrderId, new Date(ist(11, 0)).toISOString()],
      );
      await migrate(pglite);
      const [row] = await pglite.query<OrderRow & { journal_sequence: number }>(
        'SELECT status, status_message, cancelled_quantity, updated_at, journal_sequence FROM orders',
      );
      expect(row).toMatchObject({ status: 'CANCELLED', status_message: 'Cancelled by the user.', cancelled_quantity: 5, journal_sequence: 3 });
      expect(row?.updated_at.getTime()).toBe(ist(9, 20));
    } finally {
      await pglite.close();
    }
  }, 60_000);
});
