/**
 * PostgreSQL down mid-run, on a dedicated throwaway server this test stops and starts: new
 * orders are refused (fail closed) with a RiskAlert, market data keeps flowing to the actors,
 * nothing already journaled is lost, and orders are accepted again by themselves once it is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../src/actors/core/index.js';
import { clientOrderIdFor, newOrder, type OrderIntent, type RiskAlert } from '../../src/model/index.js';
import { PostgresDatabase } from '../../src/persistence/database.js';
import { OrderJournal } from '../../src/persistence/journal-orders.js';
import { migrate } from '../../src/persistence/migrate.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { createSyntheticMarket } from '../../src/streams/index.js';
import { usePostgres, type DedicatedPostgresService } from '../support/services.js';

let server: DedicatedPostgresService;
let database: PostgresDatabase;

beforeAll(async () => {
  server = await usePostgres({ dedicated: true });
  database = new PostgresDatabase(server.url, { poolMin: 0, poolMax: 4, statementTimeoutMs: 5000, connectTimeoutMs: 1000 });
  await migrate(database);
}, 60_000);

afterAll(async () => {
  await database?.close();
  await server?.stop();
});

describe('PostgreSQL down mid-run (dedicated server)', () => {
  it('refuses new orders with a RiskAlert, keeps market data flowing, loses nothing journaled, and resumes by itself', async () => {
    const market = createSyntheticMarket({ symbols: 3, seed: 7, ticksPerSymbolPerSecond: 5 });
    const symbol = market.instruments[0]!.symbol;
    const runtime = new Runtime({
      instruments: market.instruments,
      strategies: [],
      portfolio: { portfolioId: 'paper', initialCashPaise: 10_000_000 * 100 },
      clock: { nowMs: () => market.simulatedTimeMs },
      journal: new OrderJournal(database),
    });
    const alerts: RiskAlert[] = [];
    runtime.bus.on('RiskAlert', (alert) => alerts.push(alert));
    runtime.start();
    const feed = (): void => {
      const bySymbol = new Map<string, ReturnType<typeof market.nextBatch>>();
      for (const tick of market.nextBatch(300)) bySymbol.set(tick.symbol, [...(bySymbol.get(tick.symbol) ?? []), tick]);
      for (const [name, ticks] of bySymbol) runtime.offerTicks(name, ticks);
    };
    let sequence = 0;
    const place = (): string => {
      const intent: OrderIntent = {
        type: 'order-intent', intentId: `manual:${sequence}`, strategyId: 'manual', portfolioId: 'paper', symbol, side: 'BUY', quantity: 1,
        orderType: 'MARKET', product: 'MIS', validity: 'DAY', createdAtMs: market.simulatedTimeMs,
      };
      const id = clientOrderIdFor('manual', sequence);
      sequence += 1;
      runtime.system.tell(runtime.directory.requireExecution(), { type: 'PlaceOrder', order: newOrder(intent, id, market.simulatedTimeMs) });
      return id;
    };
    const journaled = async (id: string): Promise<string[]> =>
      (await database.query<{ type: string }>("SELECT type FROM journal WHERE payload->'order'->>'clientOrderId' = $1 ORDER BY sequence", [id])).map((row) => row.type);

    // 1. normal: placed, journaled before acting, filled
    const first = place();
    await eventually(async () => {
      feed();
      expect(await journaled(first)).toEqual(expect.arrayContaining(['OrderPlaced', 'OrderUpdated', 'Fill']));
    }, { timeoutMs: 10_000 });
    await eventually(() => expect(runtime.portfolio()?.fillCount).toBe(1));

    // 2. the server dies: the next order is refused, fail closed, with a RiskAlert
    await server.kill();
    const refused = place();
    await eventually(() => expect(alerts.some((alert) => alert.code === 'journal-unavailable')).toBe(true), { timeoutMs: 10_000 });
    const markBefore = runtime.cache.lastPrice(symbol);
    for (let i = 0; i < 20; i += 1) feed();
    await runtime.whenIdle();
    // market data still reaches the actors
    expect(runtime.cache.lastPrice(symbol)).not.toBe(markBefore);
    const another = place(); // while down: refused at once
    await runtime.whenIdle();
    expect(runtime.portfolio()?.fillCount).toBe(1);

    // 3. back: it resumes by itself, and what was journaled before is all there
    await server.restart();
    await eventually(() => expect(alerts.some((alert) => alert.code === 'journal-recovered')).toBe(true), { timeoutMs: 15_000 });
    const after = place();
    await eventually(async () => {
      feed();
      expect(await journaled(after)).toEqual(expect.arrayContaining(['OrderPlaced', 'Fill']));
    }, { timeoutMs: 10_000 });
    expect(await journaled(first)).toEqual(expect.arrayContaining(['OrderPlaced', 'OrderUpdated', 'Fill']));
    expect(await journaled(refused)).toEqual([]);
    expect(await journaled(another)).toEqual([]);
    await eventually(() => expect(runtime.portfolio()?.fillCount).toBe(2));
    await runtime.stop();
  }, 60_000);
});
