import { beforeAll, describe, expect, it } from 'vitest';
import { clientOrderIdFor, newOrder, type Order, type OrderExplanation, type OrderIntent } from '../../src/model/index.js';
import type { Database } from '../../src/persistence/database.js';
import { OrderJournal } from '../../src/persistence/journal-orders.js';
import { EXECUTION_STREAM } from '../../src/brokers/paper/paper-adapter.js';
import { toJournalEntry } from '../../src/actors/journal.js';
import { loadMigrations, migrate } from '../../src/persistence/migrate.js';
import { findOrder, listOrders, type OrderCursor } from '../../src/persistence/order-queries.js';
import { DATABASE_KINDS, suiteDatabase } from '../support/databases.js';

const T0 = Date.UTC(2026, 4, 20, 4, 0);

/** An explanation with everything that could trip an array literal or JSON: quotes, backslashes, braces, commas, non-ASCII, NULL-looking text. */
const EXPLANATION: OrderExplanation = {
  source: 'signal-aggregator',
  summary: 'BUY: 2 of 3 voted long, "score" 0.42 {weighted}, \\ and ₹, NULL',
  decision: 'BUY',
  score: 0.42,
  confidence: 0.42,
  atMs: T0,
  regime: 'trending',
  signals: [
    {
      strategyId: 'ema-cross-1',
      direction: 'long',
      confidence: 0.9,
      weight: 1,
      contribution: 0.3,
      atMs: T0 - 60_000,
      reason: 'fast EMA crossed above slow, {a,b}',
    },
    { strategyId: 'rsi-reversion-1', direction: 'short', confidence: 0.25, weight: 0.5, contribution: -0.04166666666666666, atMs: T0 - 120_000 },
    { strategyId: 'vwap-reversion-1', direction: 'flat', confidence: 0, weight: 1, contribution: 0, atMs: T0 - 30_000 },
  ],
};

function order(strategyId: string, sequence: number, patch: Partial<OrderIntent> = {}, atMs = T0 + sequence * 1000): Order {
  const intent: OrderIntent = {
    type: 'order-intent',
    intentId: `${strategyId}:${sequence}`,
    strategyId,
    portfolioId: 'paper',
    symbol: 'INFY',
    side: 'BUY',
    quantity: 5,
    orderType: 'LIMIT',
    product: 'MIS',
    validity: 'DAY',
    limitPricePaise: 150_005,
    createdAtMs: atMs,
    ...patch,
  };
  return newOrder(intent, clientOrderIdFor(strategyId, sequence), atMs);
}

describe.each(DATABASE_KINDS)('orders with reason and explanation on %s', (kind) => {
  const database = suiteDatabase(kind);
  let db: Database;
  beforeAll(() => {
    db = database();
  });

  it('migration 007 adds orders.reason (text) and orders.explanation (jsonb), filled from the journal for orders placed before it', async () => {
    await migrate(
      db,
      loadMigrations().filter((migration) => migration.version <= 6),
    );
    const before = order('ensemble-1', 0, { reason: 'aggregate vote', explanation: EXPLANATION });
    const plain = order('ema-cross-1', 0);
    for (const placed of [before, plain]) {
      await db.query('INSERT INTO journal (stream, type, payload) VALUES ($1, $2, $3)', [EXECUTION_STREAM, 'OrderPlaced', JSON.stringify({ order: placed })]);
      await db.query(
        `INSERT INTO orders (client_order_id, intent_id, portfolio_id, strategy_id, symbol, side, order_type, product, validity, quantity, status, created_at, updated_at)
         VALUES ($1, $2, 'paper', $3, 'INFY', 'BUY', 'LIMIT', 'MIS', 'DAY', 5, 'PUT ORDER REQ RECEIVED', $4, $4)`,
        [placed.clientOrderId, placed.intentId, placed.strategyId, new Date(placed.createdAtMs).toISOString()],
      );
    }
    await migrate(db);
    const columns = await db.query<{ name: string; type: string }>(
      "SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_name = 'orders' AND column_name IN ('reason', 'explanation') ORDER BY 1",
    );
    expect(columns).toEqual([
      { name: 'explanation', type: 'jsonb' },
      { name: 'reason', type: 'text' },
    ]);
    expect(await findOrder(db, before.clientOrderId)).toMatchObject({ reason: 'aggregate vote', explanation: EXPLANATION });
    const stored = await findOrder(db, plain.clientOrderId);
    expect(stored).toBeDefined();
    expect(stored).not.toHaveProperty('reason');
    expect(stored).not.toHaveProperty('explanation');
    await db.exec('TRUNCATE orders, journal');
  });

  it('the order journal writes them; an update without them keeps them; the queries read the order back exactly', async () => {
    const journal = new OrderJournal(db);
    const explained = order('ensemble-1', 1, { reason: 'aggregate vote: BUY, score 0.42', explanation: EXPLANATION });
    const reasonOnly = order('ema-cross-1', 1, { reason: 'fast EMA crossed above slow' });
    const bare = order('ema-cross-1', 2);
    await journal.append([explained, reasonOnly, bare].map((placed) => toJournalEntry(EXECUTION_STREAM, { type: 'OrderPlaced', order: placed })));
    const open: Order = { ...explained, brokerOrderId: 'P000000001', status: 'OPEN', updatedAtMs: explained.createdAtMs + 5 };
    const {
      reason: _reason,
      explanation: _explanation,
      ...withoutWhy
    } = { ...open, status: 'CANCELLED' as const, cancelledQuantity: 5, updatedAtMs: open.updatedAtMs + 5 };
    await journal.append([toJournalEntry(EXECUTION_STREAM, { type: 'OrderUpdated', order: open })]);
    await journal.append([toJournalEntry(EXECUTION_STREAM, { type: 'OrderUpdated', order: withoutWhy })]);

    expect(await findOrder(db, explained.clientOrderId)).toEqual({ ...withoutWhy, reason: explained.reason, explanation: EXPLANATION });
    expect(await findOrder(db, reasonOnly.clientOrderId)).toEqual(reasonOnly);
    expect(await findOrder(db, bare.clientOrderId)).toEqual(bare);
    expect(await findOrder(db, 'nope')).toBeUndefined();
    const [raw] = await db.query<{ score: string; signals: number }>(
      "SELECT explanation ->> 'score' AS score, jsonb_array_length(explanation -> 'signals')::int AS signals FROM orders WHERE explanation IS NOT NULL",
    );
    expect(raw).toEqual({ score: '0.42', signals: 3 });
    await db.exec('TRUNCATE orders, journal');
  });

  it('lists newest first with filters and a keyset cursor that splits ties on created_at', async () => {
    const journal = new OrderJournal(db);
    // 25 orders, three per second (ties), two strategies, two symbols
    const orders = Array.from({ length: 25 }, (_, index) =>
      order(
        index % 2 === 0 ? 'ensemble-1' : 'ema-cross-1',
        index,
        { symbol: index % 3 === 0 ? 'TCS' : 'INFY', reason: `r${index}` },
        T0 + Math.floor(index / 3) * 1000,
      ),
    );
    await journal.append(orders.map((placed) => toJournalEntry(EXECUTION_STREAM, { type: 'OrderPlaced', order: placed })));
    const newestFirst = [...orders].sort((a, b) => b.createdAtMs - a.createdAtMs || (a.clientOrderId < b.clientOrderId ? 1 : -1));

    const seen: Order[] = [];
    let after: OrderCursor | undefined;
    for (let pages = 0; pages < 10; pages += 1) {
      const page = await listOrders(db, {}, { limit: 4, ...(after === undefined ? {} : { after }) });
      seen.push(...page.items);
      after = page.next;
      if (after === undefined) break;
    }
    expect(seen).toEqual(newestFirst);

    const ensembleTcs = await listOrders(db, { strategyId: 'ensemble-1', symbol: 'TCS', portfolioId: 'paper' }, { limit: 50 });
    expect(ensembleTcs).toEqual({ items: newestFirst.filter((o) => o.strategyId === 'ensemble-1' && o.symbol === 'TCS') });
    const window = await listOrders(db, { fromMs: T0 + 2000, toMs: T0 + 4000, status: 'PUT ORDER REQ RECEIVED' }, { limit: 50 });
    expect(window.items.map((o) => o.clientOrderId)).toEqual(
      newestFirst.filter((o) => o.createdAtMs >= T0 + 2000 && o.createdAtMs < T0 + 4000).map((o) => o.clientOrderId),
    );
    await expect(listOrders(db, {}, { limit: 0 })).rejects.toThrow(RangeError);
    await db.exec('TRUNCATE orders, journal');
  });
});
