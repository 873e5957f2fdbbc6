/**
 * The API's order lists at 1,000,000 orders on real PostgreSQL 15 (a throwaway server from
 * test/support/services.ts, or a fresh database on DATABASE_URL), with the schema as migrated.
 *
 * Loads `TROUPE_BENCH_ORDERS` orders (default 1 000 000) with `INSERT … SELECT generate_series`
 * over 20 portfolios, 200 strategies (10 per portfolio), 500 symbols and 60 days (statuses:
 * 70 % COMPLETE, 15 % CANCELLED, 5 % REJECTED, 10 % OPEN; every order has a `reason`, one in five
 * an aggregator-style `explanation` of three signals), then VACUUM ANALYZE. Each list is
 * timed `TROUPE_BENCH_RUNS` times (default 200) after 20 warm-up runs, as the gateway pages
 * (newest first, 50 a page, keyset cursor = [created_at, client_order_id]):
 *   first — the first page;  next — the page after the first page's last row;
 *   deep  — a page from a random cursor inside the 60 days.
 * Lists: by portfolio, strategy, symbol, status, time range (all portfolios), and portfolio +
 * time range, each through `listOrders` (src/persistence/order-queries.ts, the query the API runs:
 * rows mapped to orders). Times are client-side (pg over loopback), as the API would see them.
 * Prints p50/p95/max per query and writes bench/results/queries.json. Target: p95 < 50 ms; the exit
 * code is 1 when a query misses it with the schema as migrated. Queries that miss it are then
 * measured again with the index a migration would add (`PROPOSED_INDEX`), reported separately.
 *
 *   npx tsx bench/queries.bench.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { PostgresDatabase } from '../src/persistence/database.js';
import { migrate } from '../src/persistence/migrate.js';
import { listOrders, orderListQuery, type OrderCursor, type OrderListFilter } from '../src/persistence/order-queries.js';
import { usePostgres } from '../test/support/services.js';

const TOTAL = Number(process.env.TROUPE_BENCH_ORDERS ?? 1_000_000);
const RUNS = Number(process.env.TROUPE_BENCH_RUNS ?? 200);
const WARMUP = 20;
const PAGE = 50;
const TARGET_P95_MS = 50;
const PORTFOLIOS = 20;
const STRATEGIES = 200;
const SYMBOLS = 500;
const DAYS = 60;
const START_MS = Date.UTC(2024, 0, 1);
const SPAN_MS = DAYS * 86_400_000;

/** Deterministic parameters (xorshift32). */
let seed = 0x9e3779b9;
function random(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
}
const pick = (n: number): number => Math.floor(random() * n);
const portfolio = (): string => `pf-${pick(PORTFOLIOS)}`;
const strategy = (): string => `st-${pick(STRATEGIES)}`;
const symbol = (): string => `SYM${String(pick(SYMBOLS)).padStart(3, '0')}`;
const status = (): 'COMPLETE' | 'CANCELLED' | 'REJECTED' | 'OPEN' => (['COMPLETE', 'CANCELLED', 'REJECTED', 'OPEN'] as const)[pick(4)]!;
const randomTimeMs = (): number => START_MS + Math.floor(random() * SPAN_MS);

/** One list: a generator of its filter (the query is `listOrders`, the one the API runs). */
interface ListQuery {
  readonly name: string;
  readonly filter: () => OrderListFilter;
}

const LISTS: readonly ListQuery[] = [
  { name: 'by portfolio', filter: () => ({ portfolioId: portfolio() }) },
  { name: 'by strategy', filter: () => ({ strategyId: strategy() }) },
  { name: 'by symbol', filter: () => ({ symbol: symbol() }) },
  { name: 'by status', filter: () => ({ status: status() }) },
  {
    name: 'by time range (1 day, all portfolios)',
    filter: () => {
      const fromMs = randomTimeMs();
      return { fromMs, toMs: fromMs + 86_400_000 };
    },
  },
  {
    name: 'by portfolio + time range (7 days)',
    filter: () => {
      const fromMs = randomTimeMs();
      return { portfolioId: portfolio(), fromMs, toMs: fromMs + 7 * 86_400_000 };
    },
  },
];

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (ms: number): number => Number(ms.toFixed(2));

const VARIANTS = ['first', 'next', 'deep'] as const;
type Variant = (typeof VARIANTS)[number];
/** What a migration would add for lists filtered by time alone (every other list has its index). */
const PROPOSED_INDEX = 'CREATE INDEX IF NOT EXISTS orders_time ON orders (created_at DESC, client_order_id DESC)';

interface Measured {
  readonly list: string;
  readonly variant: Variant;
  readonly query: string;
  readonly sql: string;
  readonly runs: number;
  readonly averageRows: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
  readonly plan: readonly string[];
}

/** Times one list's page `RUNS` times (after `WARMUP` runs), through `listOrders` (rows mapped to orders, as the API gets them). */
async function measure(db: PostgresDatabase, list: ListQuery, variant: Variant): Promise<Measured> {
  const timings: number[] = [];
  let rowsSeen = 0;
  let sampleCursor: OrderCursor | undefined;
  for (let run = 0; run < WARMUP + RUNS; run += 1) {
    const filter = list.filter();
    let after: OrderCursor | undefined;
    if (variant === 'next') after = (await listOrders(db, filter, { limit: PAGE })).next;
    else if (variant === 'deep') {
      // A cursor somewhere inside the range the filter covers.
      const low = filter.fromMs ?? START_MS;
      const high = (filter.toMs ?? START_MS + SPAN_MS) - 1;
      after = { createdAtMs: low + Math.floor(random() * (high - low)), clientOrderId: 'co-5' };
    }
    if (variant !== 'first' && after === undefined) after = { createdAtMs: 0, clientOrderId: '' };
    sampleCursor ??= after;
    const started = performance.now();
    const page = await listOrders(db, filter, { limit: PAGE, ...(after === undefined ? {} : { after }) });
    const elapsed = performance.now() - started;
    if (run >= WARMUP) {
      timings.push(elapsed);
      rowsSeen += page.items.length;
    }
  }
  timings.sort((a, b) => a - b);
  const { sql, params } = orderListQuery(
    list.filter(),
    PAGE,
    variant === 'first' ? undefined : (sampleCursor ?? { createdAtMs: START_MS + SPAN_MS / 2, clientOrderId: 'co-5' }),
  );
  const plan = (await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params)).map((row) => row['QUERY PLAN'].trim());
  return {
    list: list.name,
    variant,
    query: `${list.name} — ${variant} page`,
    sql,
    runs: RUNS,
    averageRows: Number((rowsSeen / RUNS).toFixed(1)),
    p50Ms: round(percentile(timings, 50)),
    p95Ms: round(percentile(timings, 95)),
    maxMs: round(timings.at(-1)!),
    plan: plan.filter((line) => /Scan|Sort|Limit/.test(line)).slice(0, 4),
  };
}

function report(result: Measured): void {
  const over = result.p95Ms >= TARGET_P95_MS ? '  OVER TARGET' : '';
  console.log(
    `${result.query.padEnd(58)} p50 ${result.p50Ms.toFixed(2).padStart(7)} ms  p95 ${result.p95Ms.toFixed(2).padStart(7)} ms  max ${result.maxMs.toFixed(2).padStart(7)} ms  rows ${result.averageRows}${over}`,
  );
}

const service = await usePostgres();
const db = new PostgresDatabase(service.url, { poolMin: 1, poolMax: 4, statementTimeoutMs: 600_000, connectTimeoutMs: 5000 });
try {
  await migrate(db);
  const loadStarted = performance.now();
  const CHUNK = 250_000;
  for (let from = 1; from <= TOTAL; from += CHUNK) {
    const to = Math.min(TOTAL, from + CHUNK - 1);
    await db.query(
      `INSERT INTO orders (client_order_id, broker_order_id, intent_id, portfolio_id, strategy_id, symbol, side, order_type, product, validity,
                           quantity, limit_price_paise, status, filled_quantity, filled_value_paise, created_at, updated_at, reason, explanation)
       SELECT 'co-' || g, 'bo-' || g, 'in-' || g,
              'pf-' || ((g % ${STRATEGIES}) % ${PORTFOLIOS}), 'st-' || (g % ${STRATEGIES}),
              'SYM' || lpad(((g * 7919) % ${SYMBOLS})::text, 3, '0'),
              CASE WHEN g % 2 = 0 THEN 'BUY' ELSE 'SELL' END, 'LIMIT', 'MIS', 'DAY',
              1 + g % 100, 100000 + g % 5000,
              CASE WHEN (g * 31) % 100 < 70 THEN 'COMPLETE' WHEN (g * 31) % 100 < 85 THEN 'CANCELLED' WHEN (g * 31) % 100 < 90 THEN 'REJECTED' ELSE 'OPEN' END,
              0, 0, t, t,
              'signal ' || (g % 97),
              CASE WHEN g % 5 = 0 THEN jsonb_build_object(
                'source', 'signal-aggregator', 'summary', 'BUY: 2 of 3 strategies long, score 0.42', 'decision', 'BUY', 'score', 0.42, 'confidence', 0.42,
                'atMs', ${START_MS} + g, 'regime', 'trending',
                'signals', jsonb_build_array(
                  jsonb_build_object('strategyId', 'ema-cross-1', 'direction', 'long', 'confidence', 0.9, 'weight', 1, 'contribution', 0.3, 'atMs', ${START_MS} + g),
                  jsonb_build_object('strategyId', 'rsi-reversion-1', 'direction', 'long', 'confidence', 0.4, 'weight', 1, 'contribution', 0.13, 'atMs', ${START_MS} + g),
                  jsonb_build_object('strategyId', 'vwap-reversion-1', 'direction', 'flat', 'confidence', 0, 'weight', 1, 'contribution', 0, 'atMs', ${START_MS} + g))) END
       FROM generate_series($1::bigint, $2::bigint) AS g,
            LATERAL (SELECT to_timestamp(${START_MS / 1000} + (g::double precision / ${TOTAL}) * ${SPAN_MS / 1000} + (g % 7)) AS t) AS at`,
      [from, to],
    );
    process.stdout.write(`loaded ${to.toLocaleString('en-US')} orders\r`);
  }
  await db.exec('VACUUM ANALYZE orders');
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  const [{ n: rows } = { n: 0 }] = await db.query<{ n: number }>('SELECT count(*)::bigint AS n FROM orders');
  const [{ size } = { size: '' }] = await db.query<{ size: string }>(`SELECT pg_size_pretty(pg_total_relation_size('orders')) AS size`);
  console.log(`\nloaded ${rows} orders in ${loadSeconds.toFixed(1)} s (table + indexes ${size})`);

  const results: Measured[] = [];
  for (const list of LISTS) {
    for (const variant of VARIANTS) {
      const result = await measure(db, list, variant);
      results.push(result);
      report(result);
    }
  }
  const over = results.filter((result) => result.p95Ms >= TARGET_P95_MS);
  // Queries over target: add the index a migration would add, and measure them again (evidence
  // for the fix; the shipped-schema figures above are the ones that count).
  const withProposedIndex: Measured[] = [];
  if (over.length > 0) {
    console.log(`\n${over.length} over target with the schema as migrated; again with the proposed index:\n  ${PROPOSED_INDEX}`);
    await db.exec(`${PROPOSED_INDEX}; ANALYZE orders`);
    for (const list of LISTS) {
      for (const variant of VARIANTS) {
        if (!over.some((result) => result.list === list.name && result.variant === variant)) continue;
        const result = await measure(db, list, variant);
        withProposedIndex.push(result);
        report(result);
      }
    }
  }
  const output = {
    benchmark: 'order list queries (newest first, 50 a page, keyset cursor), schema as migrated',
    database: `${service.source} PostgreSQL`,
    orders: rows,
    tableSize: size,
    loadSeconds: Number(loadSeconds.toFixed(1)),
    distribution: { portfolios: PORTFOLIOS, strategies: STRATEGIES, symbols: SYMBOLS, days: DAYS },
    targetP95Ms: TARGET_P95_MS,
    overTarget: over.map((result) => result.query),
    results,
    proposedIndex:
      over.length > 0
        ? { sql: PROPOSED_INDEX, note: 'not in the migrations: measured here as the fix for the queries over target', results: withProposedIndex }
        : undefined,
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version },
    at: new Date().toISOString(),
  };
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/queries.json', import.meta.url), `${JSON.stringify(output, null, 2)}\n`);
  console.log(`${results.length} queries × ${RUNS} runs; ${over.length} over the ${TARGET_P95_MS} ms p95 target; wrote bench/results/queries.json`);
  if (over.length > 0 || rows !== TOTAL) process.exitCode = 1;
} finally {
  await db.close();
  await service.stop();
}
