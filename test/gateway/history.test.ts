import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../src/actors/core/index.js';
import { inProcessGateway, startTroupe, type Running } from '../../src/app.js';
import type { GatewayInstance } from '../../src/gateway/gateway.js';
import { loadConfig } from '../../src/config/config.js';
import type { Fill, Order } from '../../src/model/index.js';
import { PgliteDatabase } from '../../src/persistence/database.js';
import { silentLogger } from '../../src/observability/logger.js';

/**
 * The record across a restart, as `npm start` keeps it (embedded PGlite in the data directory):
 * orders, trades and risk alerts come back from the database after a restart, a cursor given out
 * before it pages the same orders after it, filters and the CSV export agree with the journal
 * (read here straight from the journal table, folded by this test), strategy books with the fills.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'h-history-api-'));
const ADMIN = { username: 'ops', password: 'history-test-password' };
let running: Running | undefined;

afterEach(async () => {
  await running?.stop('test over');
  running = undefined;
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function start(): Promise<GatewayInstance> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    TROUPE_DATA_DIR: dataDir,
    TROUPE_SYMBOLS: '4',
    TROUPE_MARKET_SPEED: '20',
    TROUPE_RISK_MAX_ORDERS_PER_SECOND: '1000',
    TROUPE_RISK_MAX_ORDERS_PER_SECOND_PER_STRATEGY: '1000',
    TROUPE_RATE_LIMIT_PER_MINUTE: '100000',
    ADMIN_USER: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
  });
  running = await startTroupe(config, silentLogger());
  return inProcessGateway(running);
}

async function login(app: GatewayInstance): Promise<{ authorization: string }> {
  const response = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: ADMIN });
  expect(response.statusCode, response.body).toBe(200);
  return { authorization: `Bearer ${response.json<{ accessToken: string }>().accessToken}` };
}

/** Paise → rupees the long way (BigInt), for comparing with the CSV. */
const rupees = (paise: number): string => {
  const value = BigInt(paise);
  const abs = value < 0n ? -value : value;
  return `${value < 0n ? '-' : ''}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
};

/** RFC 4180, quoted fields included. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(cell);
      cell = '';
    } else if (char === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i += 1;
    } else cell += char;
  }
  return rows;
}

describe('the record survives a restart (embedded store)', () => {
  it(
    'orders, trades and alerts come back; a cursor is stable across the restart; filters and CSV agree with the journal; bad parameters are plain 400s',
    { timeout: 240_000 },
    async () => {
      let app = await start();
      let headers = await login(app);
      const symbols = [...running!.runtime.instruments.keys()];
      await eventually(() => expect(running!.runtime.cache.lastPrice(symbols[3]!)).toBeDefined(), { timeoutMs: 20_000 });
      const manual: string[] = [];
      for (const [symbol, side] of [
        [symbols[0], 'BUY'],
        [symbols[1], 'BUY'],
        [symbols[0], 'SELL'],
        [symbols[2], 'SELL'],
        [symbols[3], 'BUY'],
      ] as const) {
        const placed = await app.inject({ method: 'POST', url: '/api/v1/orders', headers, payload: { symbol, side, quantity: 2 } });
        expect(placed.statusCode, placed.body).toBe(201);
        manual.push(placed.json<{ clientOrderId: string }>().clientOrderId);
      }
      // five orders past the freeze quantity: five refusals, one alert row ×5
      for (let n = 0; n < 5; n += 1) {
        const refused = await app.inject({ method: 'POST', url: '/api/v1/orders', headers, payload: { symbol: symbols[0], side: 'BUY', quantity: 9_000_000 } });
        expect(refused.statusCode).toBe(422);
      }
      await eventually(
        async () => {
          const answer = await app.inject({ url: '/api/v1/trades?strategy=manual&limit=50', headers });
          expect(answer.statusCode, answer.body).toBe(200);
          const fills = answer.json<{ items: Fill[] }>();
          expect(new Set(fills.items.map((fill) => fill.clientOrderId))).toEqual(new Set(manual));
          const alerts = (await app.inject({ url: '/api/v1/risk/alerts?strategy=manual', headers })).json<{ items: { code: string; count: number }[] }>();
          expect(alerts.items.map((row) => [row.code, row.count])).toEqual([['freeze-quantity', 5]]);
        },
        { timeoutMs: 30_000 },
      );
      const firstPage = (await app.inject({ url: '/api/v1/orders?strategy=manual&limit=2', headers })).json<{ items: Order[]; nextCursor: string }>();
      const secondPage = (await app.inject({ url: `/api/v1/orders?strategy=manual&limit=2&cursor=${firstPage.nextCursor}`, headers })).json<{
        items: Order[];
        nextCursor: string | null;
      }>();
      expect(firstPage.items.length + secondPage.items.length).toBe(4);
      const booksBefore = (await app.inject({ url: '/api/v1/history/strategy-books', headers })).json<{
        items: { strategyId: string; fills: number; chargesPaise: number }[];
        source: string;
      }>();
      expect(booksBefore.source).toBe('database');
      const manualBookBefore = booksBefore.items.find((book) => book.strategyId === 'manual');
      expect(manualBookBefore?.fills).toBeGreaterThanOrEqual(5);
      await running!.stop('restart');
      running = undefined;

      app = await start();
      headers = await login(app);
      // the same cursor pages the same orders after the restart
      const again = (await app.inject({ url: `/api/v1/orders?strategy=manual&limit=2&cursor=${firstPage.nextCursor}`, headers })).json<{ items: Order[] }>();
      expect(again.items.map((order) => order.clientOrderId)).toEqual(secondPage.items.map((order) => order.clientOrderId));
      const allManual = (await app.inject({ url: '/api/v1/orders?strategy=manual', headers })).json<{ items: Order[] }>();
      expect(allManual.items.map((order) => order.clientOrderId).sort()).toEqual([...manual].sort());
      const one = await app.inject({ url: `/api/v1/orders/${manual[0]!}`, headers });
      expect(one.statusCode).toBe(200);
      // the books still count yesterday's fills
      const booksAfter = (await app.inject({ url: '/api/v1/history/strategy-books', headers })).json<{
        items: { strategyId: string; fills: number; chargesPaise: number }[];
      }>();
      expect(booksAfter.items.find((book) => book.strategyId === 'manual')).toMatchObject({
        fills: manualBookBefore!.fills,
        chargesPaise: manualBookBefore!.chargesPaise,
      });

      // the alert is still there, ×5; acknowledged once (audited), refused the second time
      const [row] = (await app.inject({ url: '/api/v1/risk/alerts?code=freeze-quantity', headers })).json<{ items: { id: number; count: number }[] }>().items;
      expect(row?.count).toBe(5);
      const ack = await app.inject({ method: 'POST', url: `/api/v1/risk/alerts/${row!.id}/ack`, headers, payload: { note: 'fat finger drill' } });
      expect(ack.statusCode, ack.body).toBe(200);
      expect(ack.json()).toMatchObject({ alertId: row!.id, acknowledgedBy: `user:${ADMIN.username}`, note: 'fat finger drill' });
      expect((await app.inject({ method: 'POST', url: `/api/v1/risk/alerts/${row!.id}/ack`, headers })).json()).toMatchObject({ error: { code: 'conflict' } });
      expect((await app.inject({ method: 'POST', url: '/api/v1/risk/alerts/999999/ack', headers })).statusCode).toBe(404);
      await eventually(async () => {
        const audit = (await app.inject({ url: '/api/v1/audit?action=risk.alert.ack', headers })).json<{
          items: { action: string; outcome: string; actor: string }[];
        }>();
        expect(audit.items.map((entry) => [entry.action, entry.outcome])).toEqual(expect.arrayContaining([['risk.alert.ack', 'ok']]));
      });

      // filters
      const sells = (await app.inject({ url: '/api/v1/trades?strategy=manual&side=SELL', headers })).json<{ items: Fill[] }>();
      expect(sells.items.length).toBeGreaterThan(0);
      expect(sells.items.every((fill) => fill.side === 'SELL' && fill.strategyId === 'manual')).toBe(true);
      const ofSymbol = (await app.inject({ url: `/api/v1/orders?strategy=manual&symbol=${symbols[0]!}`, headers })).json<{ items: Order[] }>();
      expect(ofSymbol.items.map((order) => order.clientOrderId).sort()).toEqual([manual[0], manual[2]].sort());
      const newest = allManual.items[0]!;
      const before = (await app.inject({ url: `/api/v1/orders?strategy=manual&to=${newest.createdAtMs}`, headers })).json<{ items: Order[] }>();
      expect(before.items.map((order) => order.clientOrderId)).not.toContain(newest.clientOrderId);
      expect(before.items.length).toBe(allManual.items.filter((order) => order.createdAtMs < newest.createdAtMs).length);

      // CSV of the manual trades and orders, by ?format=csv and by Accept
      const tradesCsv = await app.inject({ url: '/api/v1/trades?strategy=manual&format=csv', headers });
      expect(tradesCsv.statusCode).toBe(200);
      expect(tradesCsv.headers['content-type']).toMatch(/^text\/csv/);
      expect(tradesCsv.headers['content-disposition']).toMatch(/^attachment; filename="troupe-trades-/);
      const ordersCsv = await app.inject({ url: '/api/v1/orders?strategy=manual', headers: { ...headers, accept: 'text/csv' } });
      expect(ordersCsv.headers['content-type']).toMatch(/^text\/csv/);

      // bad parameters: a 400 in plain words
      const empty = await app.inject({ url: '/api/v1/orders?strategy=', headers });
      expect(empty.statusCode).toBe(400);
      expect(empty.json<{ error: { message: string } }>().error.message).toBe('querystring /strategy must not be empty');
      const badDate = await app.inject({ url: '/api/v1/trades?from=yesterday', headers });
      expect(badDate.statusCode).toBe(400);
      expect(badDate.json<{ error: { message: string } }>().error.message).toMatch(/^querystring \/from must be an ISO 8601 date/);
      const badSide = await app.inject({ url: '/api/v1/trades?side=HOLD', headers });
      expect(badSide.json<{ error: { message: string } }>().error.message).toBe('querystring /side must be one of BUY, SELL');
      const reversed = await app.inject({ url: '/api/v1/orders?from=2026-05-21&to=2026-05-20', headers });
      expect(reversed.json<{ error: { message: string } }>().error.message).toBe('querystring /to must be after from');
      await running!.stop('done');
      running = undefined;

      // the independent side: the journal's rows, folded here
      const db = await PgliteDatabase.open(join(dataDir, 'pgdata'));
      try {
        const rows = await db.query<{ type: string; payload: { fill?: Fill; order?: Order } }>(
          "SELECT type, payload FROM journal WHERE stream = 'execution/paper' ORDER BY sequence",
        );
        const fills = rows.flatMap((entry) => (entry.type === 'Fill' && entry.payload.fill?.strategyId === 'manual' ? [entry.payload.fill] : []));
        const expectedTrades = fills
          .sort((a, b) => b.atMs - a.atMs || (a.fillId < b.fillId ? 1 : -1))
          .map((fill) => [
            fill.fillId,
            new Date(fill.atMs).toISOString(),
            fill.clientOrderId,
            fill.brokerOrderId,
            fill.portfolioId,
            'manual',
            fill.symbol,
            fill.side,
            fill.product,
            String(fill.quantity),
            rupees(fill.pricePaise),
            rupees(fill.pricePaise * fill.quantity),
            rupees(fill.chargesPaise),
          ]);
        const [header, ...body] = parseCsv(tradesCsv.body);
        expect(header).toEqual([
          'fill_id',
          'executed_at',
          'client_order_id',
          'broker_order_id',
          'portfolio',
          'strategy',
          'symbol',
          'side',
          'product',
          'quantity',
          'price_inr',
          'value_inr',
          'charges_inr',
        ]);
        expect(body).toEqual(expectedTrades);

        const latest = new Map<string, Order>();
        for (const entry of rows) if (entry.payload.order?.strategyId === 'manual') latest.set(entry.payload.order.clientOrderId, entry.payload.order);
        const [orderHeader, ...orderRows] = parseCsv(ordersCsv.body);
        const column = (name: string): number => orderHeader!.indexOf(name);
        expect(orderRows.map((cells) => cells[column('client_order_id')]).sort()).toEqual([...latest.keys()].sort());
        for (const cells of orderRows) {
          const order = latest.get(cells[column('client_order_id')]!)!;
          expect([cells[column('status')], cells[column('filled_quantity')], cells[column('filled_value_inr')], cells[column('side')]]).toEqual([
            order.status,
            String(order.filledQuantity),
            rupees(order.filledValuePaise),
            order.side,
          ]);
        }
      } finally {
        await db.close();
      }
    },
  );
});
