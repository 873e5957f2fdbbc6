/**
 * The history API end to end (Fastify `inject`, the routes, `SqlHistory`, the SQL) at
 * `TROUPE_BENCH_ORDERS` orders (default 100 000) on real PostgreSQL 15 (a throwaway server from
 * test/support/services.ts, or a fresh database on DATABASE_URL) — or on the embedded PGlite
 * with `TROUPE_BENCH_STORE=pglite`, what `npm start` uses.
 *
 * Loads the orders with `INSERT … SELECT generate_series` (20 portfolios, 200 strategies, 500
 * symbols, 60 days), then measures, `TROUPE_BENCH_RUNS` times (default 100) after 10 warm-ups:
 *   page    — GET /api/v1/orders?strategy=…&side=BUY&from=…&to=…&limit=50 (a filtered page)
 *   next    — the page after it (keyset cursor)
 * and a full CSV export of every order (GET /api/v1/orders?format=csv: 100k rows streamed, 2 000 per
 * query), three times: time and bytes. Prints p50/p95/max and writes bench/results/history.json.
 *
 *   npx tsx bench/history.bench.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { buildGateway } from '../src/gateway/gateway.js';
import { PgliteDatabase, PostgresDatabase, type Database } from '../src/persistence/database.js';
import { SqlHistory } from '../src/persistence/history-queries.js';
import { migrate } from '../src/persistence/migrate.js';
import { ManualClock } from '../src/runtime/clock.js';
import { Runtime } from '../src/runtime/runtime.js';
import { gatewayConfig } from '../test/gateway/harness.js';
import { instrument } from '../test/support/builders.js';
import { usePostgres, type PostgresService } from '../test/support/services.js';

const TOTAL = Number(process.env.TROUPE_BENCH_ORDERS ?? 100_000);
const RUNS = Number(process.env.TROUPE_BENCH_RUNS ?? 100);
const STORE = process.env.TROUPE_BENCH_STORE === 'pglite' ? 'pglite' : 'postgres';
const WARMUP = 10;
const PORTFOLIOS = 20;
const STRATEGIES = 200;
const SYMBOLS = 500;
const DAYS = 60;
const START_MS = Date.UTC(2024, 0, 1);
const SPAN_MS = DAYS * 86_400_000;

const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const summary = (times: number[]) => {
  const sorted = [...times].sort((a, b) => a - b);
  return { p50Ms: +quantile(sorted, 0.5).toFixed(2), p95Ms: +quantile(sorted, 0.95).toFixed(2), maxMs: +sorted.at(-1)!.toFixed(2) };
};

let service: PostgresService | undefined;
let db: Database;
if (STORE === 'postgres') {
  service = await usePostgres();
  db = new PostgresDatabase(service.url);
} else db = await PgliteDatabase.open('memory://');
await migrate(db);
const loadStarted = performance.now();
for (let from = 1; from <= TOTAL; from += 50_000) {
  const to = Math.min(TOTAL, from + 49_999);
  await db.query(
    `INSERT INTO orders (client_order_id, broker_order_id, intent_id, portfolio_id, strategy_id, symbol, side, order_type, product, validity,
                         quantity, limit_price_paise, status, filled_quantity, filled_value_paise, created_at, updated_at, reason)
     SELECT 'co-' || g, 'bo-' || g, 'in-' || g, 'pf-' || ((g % ${STRATEGIES}) % ${PORTFOLIOS}), 'st-' || (g % ${STRATEGIES}),
            'SYM' || lpad(((g * 7919) % ${SYMBOLS})::text, 3, '0'), CASE WHEN g % 2 = 0 THEN 'BUY' ELSE 'SELL' END, 'LIMIT', 'MIS', 'DAY',
            1 + g % 100, 100000 + g % 5000,
            CASE WHEN (g * 31) % 100 < 70 THEN 'COMPLETE' WHEN (g * 31) % 100 < 85 THEN 'CANCELLED' WHEN (g * 31) % 100 < 90 THEN 'REJECTED' ELSE 'OPEN' END,
            (1 + g % 100) * ((g * 31) % 100 < 70)::int, (1 + g % 100) * (100000 + g % 5000) * ((g * 31) % 100 < 70)::int, t, t, 'signal, "quoted" ' || (g % 97)
       FROM generate_series($1::bigint, $2::bigint) AS g,
            LATERAL (SELECT to_timestamp(${START_MS / 1000} + (g::double precision / ${TOTAL}) * ${SPAN_MS / 1000} + (g % 7)) AS t) AS at`,
    [from, to],
  );
}
await db.exec('VACUUM ANALYZE orders');
const loadSeconds = (performance.now() - loadStarted) / 1000;

const clock = new ManualClock(START_MS);
const runtime = new Runtime({
  instruments: [instrument('INFY', 100_000, 257)],
  strategies: [],
  portfolio: { portfolioId: 'pf-0', initialCashPaise: 1_00_00_000_00 },
  clock,
});
runtime.start();
const app = await buildGateway({
  runtime: runtime.facade,
  config: gatewayConfig(),
  startedAtMs: Date.now(),
  feedState: () => ({ connected: true, lastTickAgeMs: 0 }),
  history: new SqlHistory(db),
});
const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'root', password: 'correct horse battery' } });
const headers = { authorization: `Bearer ${login.json<{ accessToken: string }>().accessToken}` };

const fromDay = new Date(START_MS + 20 * 86_400_000).toISOString().slice(0, 10);
const toDay = new Date(START_MS + 40 * 86_400_000).toISOString().slice(0, 10);
const pageUrl = (n: number): string => `/api/v1/orders?strategy=st-${(n * 2) % STRATEGIES}&side=BUY&from=${fromDay}&to=${toDay}&limit=50`;
const pageTimes: number[] = [];
const nextTimes: number[] = [];
let rowsSeen = 0;
for (let n = 0; n < WARMUP + RUNS; n += 1) {
  const started = performance.now();
  const first = await app.inject({ url: pageUrl(n), headers });
  const pageMs = performance.now() - started;
  if (first.statusCode !== 200) throw new Error(`page: ${first.statusCode} ${first.body}`);
  const body = first.json<{ items: unknown[]; nextCursor: string | null }>();
  rowsSeen = body.items.length;
  const startedNext = performance.now();
  const next = await app.inject({ url: `${pageUrl(n)}&cursor=${body.nextCursor ?? ''}`, headers });
  const nextMs = performance.now() - startedNext;
  if (body.nextCursor !== null && next.statusCode !== 200) throw new Error(`next: ${next.statusCode} ${next.body}`);
  if (n >= WARMUP) {
    pageTimes.push(pageMs);
    if (body.nextCursor !== null) nextTimes.push(nextMs);
  }
}

const exports: { ms: number; bytes: number; rows: number }[] = [];
for (let n = 0; n < 3; n += 1) {
  const started = performance.now();
  const csv = await app.inject({ url: '/api/v1/orders?format=csv', headers });
  const ms = performance.now() - started;
  if (csv.statusCode !== 200) throw new Error(`csv: ${csv.statusCode}`);
  exports.push({ ms: +ms.toFixed(0), bytes: csv.rawPayload.length, rows: csv.body.split('\r\n').length - 2 });
}
if (exports[0]!.rows !== TOTAL) throw new Error(`the export has ${exports[0]!.rows} rows, not ${TOTAL}`);

const result = {
  store: STORE,
  orders: TOTAL,
  loadSeconds: +loadSeconds.toFixed(1),
  filteredPage: { ...summary(pageTimes), rows: rowsSeen },
  nextPage: summary(nextTimes),
  csvExport: exports,
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg().map((value) => +value.toFixed(2)) },
};
console.log(JSON.stringify(result, null, 2));
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL(`./results/history-${STORE}.json`, import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
await app.close();
await runtime.stop();
await db.close();
await service?.stop();
