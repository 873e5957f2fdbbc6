/**
 * kill -9 in Kite mode: the simulator (`src/sim/cli.ts`) and Troupe (`src/main.ts`, broker kite,
 * real PostgreSQL) run as child processes. Troupe trades; the ticker is dropped mid-run through
 * the simulator's fault switch; Troupe is killed once with SIGKILL while trading and restarted;
 * it recovers (journal + reconciliation with Kite by tag) and trades on. Then the simulator's
 * order book, by tag, is compared with the journal: nothing sent twice, nothing sent that was
 * not journaled first, every Kite trade of ours journaled exactly once (nothing lost).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { KiteConnect } from 'kiteconnect';
import type { Connect } from 'kiteconnect/types/connect.js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresDatabase } from '../../src/persistence/database.js';
import { migrate } from '../../src/persistence/migrate.js';
import { freePort, usePostgres, type PostgresService } from '../support/services.js';

const API_KEY = 'killkey';
const API_SECRET = 'killsecret';

let service: PostgresService;
let db: pg.Client;
let dataDir: string;
let sim: ChildProcess | undefined;
let troupe: ChildProcess | undefined;
let simUrl: string;
let kite: Connect;
let accessToken: string;

/** Spawns a child and resolves once a stdout line contains `ready`; keeps every line. */
async function spawnUntil(args: string[], env: NodeJS.ProcessEnv, ready: string): Promise<{ proc: ChildProcess; lines: string[] }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const reader = createInterface({ input: proc.stdout });
  await new Promise<void>((resolve, reject) => {
    reader.on('line', (line) => {
      lines.push(line);
      if (line.includes(ready)) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${String(code)}: ${stderr}\n${lines.slice(-8).join('\n')}`)));
  });
  return { proc, lines };
}

/** Probes until true; `everyMs` paces probes that call the simulator (it shares Kite's 10 req/s with Troupe). */
async function waitFor(probe: () => Promise<boolean> | boolean, timeoutMs: number, what: string, everyMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** A Kite read, retried when the simulator says 429 (the API key's budget is shared with Troupe). */
async function read<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if ((error as { error_type?: string }).error_type !== 'NetworkException' || attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

const count = async (sql: string): Promise<number> => Number((await db.query<{ n: string }>(sql)).rows[0]!.n);
const journaled = (type: string): Promise<number> => count(`SELECT count(*)::text AS n FROM journal WHERE stream = 'execution/kite' AND type = '${type}'`);

async function admin(path: string): Promise<unknown> {
  const response = await fetch(`${simUrl}/__admin/${path}`, { method: 'POST' });
  return ((await response.json()) as { data: unknown }).data;
}

async function startTroupe(): Promise<string[]> {
  const { proc, lines } = await spawnUntil(
    ['src/main.ts'],
    {
      ...process.env,
      TZ: 'Asia/Kolkata',
      DATABASE_URL: service.url,
      REDIS_URL: '',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      TROUPE_DATA_DIR: dataDir,
      TROUPE_BROKER: 'kite',
      TROUPE_SYMBOLS: '5',
      KITE_API_KEY: API_KEY,
      KITE_ACCESS_TOKEN: accessToken,
      KITE_ROOT: simUrl,
      KITE_TICKER_URL: simUrl.replace('http:', 'ws:') + '/',
      KITE_POLL_MS: '200',
      ADMIN_USER: 'ops',
      ADMIN_PASSWORD: 'kite-kill9-test-password',
      TROUPE_LEASE_WAIT_MS: '10000',
    },
    '"Troupe is trading through Kite',
  );
  troupe = proc;
  return lines;
}

beforeAll(async () => {
  service = await usePostgres();
  const database = new PostgresDatabase(service.url);
  await migrate(database);
  await database.close();
  db = new pg.Client({ connectionString: service.url });
  await db.connect();
  dataDir = mkdtempSync(join(tmpdir(), 'troupe-kite-kill9-'));
  const port = await freePort();
  const started = await spawnUntil(
    ['src/sim/cli.ts', '--port', String(port), '--any-time', '--symbols', '5', '--ticks-per-second', '300', '--api-key', API_KEY, '--api-secret', API_SECRET],
    { ...process.env, TZ: 'Asia/Kolkata' },
    'Kite simulator listening',
  );
  sim = started.proc;
  simUrl = `http://127.0.0.1:${port}`;
  kite = new KiteConnect({ api_key: API_KEY, root: simUrl });
  const { request_token: requestToken } = (await admin('request-token')) as { request_token: string };
  accessToken = (await kite.generateSession(requestToken, API_SECRET)).access_token;
}, 60_000);

afterAll(async () => {
  for (const proc of [troupe, sim]) if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  await db?.end();
  await service?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('kill -9 in Kite mode (Troupe and the simulator as processes, real PostgreSQL)', () => {
  it('ticker dropped mid-run, SIGKILL while trading, restart: nothing lost or sent twice (sim order book by tag vs the journal)', async () => {
    await startTroupe();
    await waitFor(async () => (await journaled('Fill')) >= 2, 30_000, 'the first fills');

    // the ticker goes away (simulator fault switch): Troupe reconnects, polls, trades on
    const dropped = (await admin('drop-websocket')) as { dropped: number };
    expect(dropped.dropped).toBe(1);
    const fillsAtDrop = await journaled('Fill');
    await waitFor(async () => (await journaled('Fill')) > fillsAtDrop + 1, 30_000, 'fills after the ticker drop');

    // SIGKILL right after an order was journaled (it may be in flight to Kite)
    const placed = await journaled('OrderPlaced');
    await waitFor(async () => (await journaled('OrderPlaced')) > placed, 30_000, 'a new order');
    troupe!.kill('SIGKILL');
    await once(troupe!, 'exit');

    const placedBeforeRestart = await journaled('OrderPlaced');
    const lines = await startTroupe();
    const recovered = lines
      .map((line) => JSON.parse(line) as { message?: string; 'troupe.context.placedMoreThanOnce'?: string[] })
      .find((entry) => entry.message === 'recovered from the journal');
    expect(recovered?.['troupe.context.placedMoreThanOnce']).toEqual([]);
    await waitFor(async () => (await journaled('OrderPlaced')) > placedBeforeRestart + 1, 30_000, 'trading after the restart');

    // stop new orders (the kill switch pauses every strategy), then: eventually every Kite trade of ours is journaled, exactly once
    const ready = JSON.parse(lines.find((line) => line.includes('"Troupe is trading through Kite'))!) as { 'server.port': number };
    const api = `http://127.0.0.1:${ready['server.port']}/api/v1`;
    const login = (await (
      await fetch(`${api}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'ops', password: 'kite-kill9-test-password' }),
      })
    ).json()) as { accessToken: string };
    const paused = await fetch(`${api}/kill-switch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${login.accessToken}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(paused.status).toBeLessThan(300);
    const ourTrades = async (): Promise<{ kiteTrades: Map<string, number>; journalFills: Map<string, number> }> => {
      const orders = await read(() => kite.getOrders());
      const tagOf = new Map(orders.map((o) => [String(o.order_id), String(o.tag)]));
      const kiteTrades = new Map<string, number>();
      for (const trade of await read(() => kite.getTrades()))
        kiteTrades.set(`kite:${String(trade.trade_id)}`, tagOf.get(String(trade.order_id)) === undefined ? -1 : trade.quantity);
      const rows = await db.query<{ id: string; n: string }>(
        "SELECT payload->'fill'->>'fillId' AS id, count(*)::text AS n FROM journal WHERE type = 'Fill' GROUP BY 1",
      );
      return { kiteTrades, journalFills: new Map(rows.rows.map((r) => [r.id, Number(r.n)])) };
    };
    // then wait until nothing can change any more: every Kite trade of ours journaled, every order of
    // ours at Kite final there (nothing left to fill), and every journaled order either at Kite or
    // closed in the journal (the client-side queue, 10 orders/s shared with the polls, has drained)
    const TERMINAL = ['COMPLETE', 'CANCELLED', 'REJECTED'];
    let unsettled: string[] = [];
    await waitFor(
      async () => {
        // orders before trades: an order final at Kite at the first read has all its trades in the
        // second (read the other way round, an order filling between the reads looks settled while
        // its trade is missing from the list)
        const atKite = await read(() => kite.getOrders());
        const { kiteTrades, journalFills } = await ourTrades();
        const lastWord = await db.query<{ id: string; status: string }>(
          `SELECT DISTINCT ON (payload->'order'->>'clientOrderId') payload->'order'->>'clientOrderId' AS id, payload->'order'->>'status' AS status
             FROM journal WHERE stream = 'execution/kite' ORDER BY payload->'order'->>'clientOrderId', sequence DESC`,
        );
        const tags = new Set(atKite.map((o) => String(o.tag)));
        unsettled = [
          ...[...kiteTrades.keys()].filter((id) => !journalFills.has(id)).map((id) => `trade ${id} not journaled`),
          ...atKite.filter((o) => !TERMINAL.includes(String(o.status))).map((o) => `${String(o.tag)} ${String(o.status)} at Kite`),
          ...lastWord.rows
            .filter((row) => !tags.has(row.id) && !TERMINAL.includes(row.status))
            .map((row) => `${row.id} ${row.status} in the journal, not at Kite`),
        ];
        return unsettled.length === 0;
      },
      30_000,
      'every Kite trade in the journal and every order final',
      300,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; ${unsettled.length} unsettled: ${unsettled.slice(0, 10).join(', ')}`);
    });
    troupe!.kill('SIGTERM');
    await once(troupe!, 'exit');

    const { kiteTrades, journalFills } = await ourTrades();
    expect([...journalFills.values()].every((n) => n === 1)).toBe(true); // no fill journaled twice
    expect(new Set(journalFills.keys())).toEqual(new Set(kiteTrades.keys())); // none lost, none invented

    const kiteOrders = await read(() => kite.getOrders());
    const byTag = new Map<string, number>();
    for (const order of kiteOrders) byTag.set(String(order.tag), (byTag.get(String(order.tag)) ?? 0) + 1);
    expect([...byTag.entries()].filter(([, n]) => n > 1)).toEqual([]); // nothing sent twice
    const placedIds = (
      await db.query<{ id: string; n: string }>(
        "SELECT payload->'order'->>'clientOrderId' AS id, count(*)::text AS n FROM journal WHERE type = 'OrderPlaced' GROUP BY 1",
      )
    ).rows;
    expect(placedIds.filter((r) => r.n !== '1')).toEqual([]); // journaled once
    const journaledIds = new Set(placedIds.map((r) => r.id));
    expect([...byTag.keys()].filter((tag) => !journaledIds.has(tag))).toEqual([]); // nothing reached Kite without being journaled first
    // the journal's last word on each order agrees with Kite on the filled quantity
    const latest = await db.query<{ id: string; filled: number }>(
      `SELECT DISTINCT ON (payload->'order'->>'clientOrderId') payload->'order'->>'clientOrderId' AS id, (payload->'order'->>'filledQuantity')::int AS filled
         FROM journal WHERE stream = 'execution/kite' ORDER BY payload->'order'->>'clientOrderId', sequence DESC`,
    );
    const filledAtKite = new Map(kiteOrders.map((o) => [String(o.tag), o.filled_quantity]));
    for (const row of latest.rows)
      if (filledAtKite.has(row.id)) expect({ id: row.id, filled: row.filled }).toEqual({ id: row.id, filled: filledAtKite.get(row.id) });
    // the query tables follow the journal
    expect(await count('SELECT count(*)::text AS n FROM trades')).toBe(journalFills.size);
    // what was journaled but never reached Kite, and why (never re-sent: closed with a reason)
    const notAtKite = latest.rows.filter((row) => !byTag.has(row.id)).map((row) => row.id);
    const reasons = (
      await db.query<{ id: string; status: string; message: string | null }>(
        `SELECT DISTINCT ON (payload->'order'->>'clientOrderId') payload->'order'->>'clientOrderId' AS id, payload->'order'->>'status' AS status, payload->'order'->>'statusMessage' AS message
           FROM journal WHERE stream = 'execution/kite' AND payload->'order'->>'clientOrderId' = ANY($1) ORDER BY payload->'order'->>'clientOrderId', sequence DESC`,
        [notAtKite],
      )
    ).rows;
    // closed without reaching Kite: REJECTED by recovery after the SIGKILL, or CANCELLED by the kill switch before it was sent
    expect(reasons.filter((r) => r.status !== 'REJECTED' && r.status !== 'CANCELLED')).toEqual([]);
    process.stdout.write(
      `kite kill -9: ${journaledIds.size} orders journaled, ${byTag.size} at Kite, ${journalFills.size} fills; the ticker dropped once, SIGKILL once; not at Kite (closed, never re-sent): ${JSON.stringify(reasons.map((r) => r.message))}\n`,
    );
  }, 150_000);
});
