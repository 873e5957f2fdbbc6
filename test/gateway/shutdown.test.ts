import { afterEach, describe, expect, it } from 'vitest';
import { startTroupe, type Running } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { silentLogger } from '../../src/observability/logger.js';
import { suiteTroupeStore } from '../support/databases.js';

/** `npm start` in process (startTroupe) on real PostgreSQL: a graceful stop while manual orders are in flight. */
const store = suiteTroupeStore('troupe-shutdown-');

let running: Running | undefined;
afterEach(async () => {
  await running?.stop('test over');
  running = undefined;
});

const ADMIN = { username: 'ops', password: 'shutdown-test-password' };

interface Answer {
  readonly status: number;
  readonly clientOrderId?: string;
  readonly code?: string;
}

describe('graceful stop with manual orders in flight', () => {
  it('every order answered 201 is journaled (a stop right after cannot lose it); a stop lets requests in flight finish and refuses new ones, never a 500', async () => {
    running = await startTroupe(
      loadConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
        DATABASE_URL: store().url,
        TROUPE_DATA_DIR: store().dataDir,
        TROUPE_SYMBOLS: '4',
        TROUPE_MARKET_SPEED: '20',
        TROUPE_RISK_MAX_ORDERS_PER_SECOND: '1000',
        TROUPE_RISK_MAX_ORDERS_PER_SECOND_PER_STRATEGY: '1000',
        ADMIN_USER: ADMIN.username,
        ADMIN_PASSWORD: ADMIN.password,
      }),
      silentLogger(),
    );
    const app = running;
    const base = `http://127.0.0.1:${app.port}`;
    const login = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
    expect(login.status).toBe(200);
    const authorization = `Bearer ${((await login.json()) as { accessToken: string }).accessToken}`;
    const symbols = [...app.runtime.instruments.keys()];
    const place = async (n: number): Promise<Answer> => {
      try {
        const response = await fetch(`${base}/api/v1/orders`, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/json' },
          body: JSON.stringify({ symbol: symbols[n % symbols.length], side: 'BUY', quantity: 1 }),
        });
        const body = (await response.json()) as { clientOrderId?: string; error?: { code: string } };
        return {
          status: response.status,
          ...(body.clientOrderId === undefined ? {} : { clientOrderId: body.clientOrderId }),
          ...(body.error ? { code: body.error.code } : {}),
        };
      } catch {
        return { status: 0 }; // the connection was refused or closed: not accepted
      }
    };

    // an order that is answered 201 is already durable: stop at once and look in the database
    const first = await place(0);
    expect(first.status).toBe(201);

    // a burst of orders; the stop begins the moment the first of them is journaled, others still in flight
    let stopping: Promise<void> | undefined;
    const off = app.runtime.bus.on('OrderSubmitted', (event) => {
      if (stopping === undefined && event.order.strategyId === 'manual' && event.order.clientOrderId !== first.clientOrderId)
        stopping = app.stop('test: stop with orders in flight');
    });
    const answers = [first, ...(await Promise.all(Array.from({ length: 20 }, (_, n) => place(n + 1))))];
    off();
    expect(stopping).toBeDefined();
    await stopping;
    running = undefined;

    // in flight: completed (201); arriving after the stop began: refused (503 or no connection); never a 500,
    // and never an approved order left unconfirmed because the tree stopped under it (503 unavailable)
    for (const answer of answers) expect([201, 503, 0], JSON.stringify(answer)).toContain(answer.status);
    expect(answers.filter((answer) => answer.code === 'unavailable')).toEqual([]);
    const accepted = answers.flatMap((answer) => (answer.status === 201 && answer.clientOrderId !== undefined ? [answer.clientOrderId] : []));
    expect(accepted.length).toBeGreaterThanOrEqual(2);
    const rows = await store().database.query<{ client_order_id: string }>("SELECT client_order_id FROM orders WHERE strategy_id = 'manual'");
    const journaled = new Set(rows.map((row) => row.client_order_id));
    for (const clientOrderId of accepted) expect(journaled.has(clientOrderId), `${clientOrderId} was answered 201 but is not in the orders table`).toBe(true);
    const entries = await store().database.query<{ id: string }>("SELECT payload->'order'->>'clientOrderId' AS id FROM journal WHERE type = 'OrderPlaced'");
    const placed = new Set(entries.map((entry) => entry.id));
    for (const clientOrderId of accepted) expect(placed.has(clientOrderId), `${clientOrderId} has no OrderPlaced journal entry`).toBe(true);
  });
});
