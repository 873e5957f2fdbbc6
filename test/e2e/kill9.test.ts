/**
 * kill -9: Troupe runs as a real child process (`node --import tsx src/main.ts`, paper broker,
 * fast synthetic market) on real PostgreSQL, and is killed with SIGKILL at random (seeded)
 * moments, 10 times in a row, restarted each time. After every kill, what is on disk must hold:
 * no client order id placed twice, the portfolio's snapshot is exactly the journal's fills up to
 * its fill count (no fill lost, none invented; positions = Σ fills, P&L continuous), and after
 * every restart trading resumes. Restart-to-trading time is measured and printed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresDatabase } from '../../src/persistence/database.js';
import { migrate } from '../../src/persistence/migrate.js';
import { Random } from '../../src/streams/random.js';
import { applyFillToPortfolio, newPortfolio, type Fill, type PortfolioState } from '../../src/model/index.js';
import { usePostgres, type PostgresService } from '../support/services.js';

const KILLS = 10;
const SEED = 0x9e3779b9;
const INITIAL_CASH_PAISE = 10_000_000 * 100;

let service: PostgresService;
let db: pg.Client;
let dataDir: string;
let child: ChildProcess | undefined;

beforeAll(async () => {
  service = await usePostgres();
  const database = new PostgresDatabase(service.url);
  await migrate(database);
  await database.close();
  db = new pg.Client({ connectionString: service.url });
  await db.connect();
  dataDir = mkdtempSync(join(tmpdir(), 'troupe-kill9-'));
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await db?.end();
  await service?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Started {
  readonly lines: string[];
  readonly readyMs: number;
}

async function start(): Promise<Started> {
  const spawnedAt = Date.now();
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: service.url,
      REDIS_URL: '',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      TROUPE_DATA_DIR: dataDir,
      TROUPE_MARKET_SPEED: '300',
      TROUPE_SYMBOLS: '20',
      ADMIN_USER: 'ops',
      ADMIN_PASSWORD: 'kill9-test-password',
      // the killed process's advisory lease goes with its connection; give the server a moment to notice
      TROUPE_LEASE_WAIT_MS: '10000',
      // orders and fills are what this test is about: at 300x speed the tick recorder would COPY ~12k ticks/s on the
      // same 2 cores and push restart-to-trading past 5 s (measured: p50 15.9 s under load); recorder.test.ts covers it
      TROUPE_RECORD_MARKET_DATA: 'false',
      // the churny demo strategy at 300x loses its day's ₹50,000 after a few cycles; the kill switch would then
      // (rightly) stop the trading this test waits for: risk limits are test/risk's subject, not this one's
      TROUPE_RISK_MAX_DAILY_LOSS_RUPEES: '100000000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  const lines: string[] = [];
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const reader = createInterface({ input: proc.stdout });
  await new Promise<void>((resolve, reject) => {
    reader.on('line', (line) => {
      lines.push(line);
      if (line.includes('"Troupe is trading')) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`troupe exited with ${String(code)}: ${stderr}\n${lines.slice(-5).join('\n')}`)));
  });
  return { lines, readyMs: Date.now() - spawnedAt };
}

async function killHard(): Promise<void> {
  const proc = child!;
  proc.kill('SIGKILL');
  if (proc.exitCode === null && proc.signalCode === null) await once(proc, 'exit');
}

async function maxSequence(type: string): Promise<number> {
  const rows = await db.query<{ max: string | null }>('SELECT max(sequence)::text AS max FROM journal WHERE type = $1', [type]);
  return Number(rows.rows[0]?.max ?? 0);
}

async function journalFills(): Promise<Fill[]> {
  const rows = await db.query<{ payload: { fill: Fill } }>("SELECT payload FROM journal WHERE type = 'Fill' ORDER BY sequence");
  const seen = new Set<string>();
  const fills: Fill[] = [];
  for (const row of rows.rows) {
    if (seen.has(row.payload.fill.fillId)) continue;
    seen.add(row.payload.fill.fillId);
    fills.push(row.payload.fill);
  }
  return fills;
}

async function portfolioSnapshot(): Promise<PortfolioState | undefined> {
  const rows = await db.query<{ state: PortfolioState }>("SELECT state FROM actor_snapshots WHERE key = '/portfolios/paper'");
  return rows.rows[0]?.state;
}

/** What fills determine (marks only move lastPricePaise). */
function booked(state: PortfolioState): unknown {
  return {
    cashPaise: state.cashPaise,
    fillCount: state.fillCount,
    positions: Object.fromEntries(
      Object.entries(state.positions).map(([key, p]) => [
        key,
        { net: p.netQuantity, cost: p.costPaise, realised: p.realisedPaise, charges: p.chargesPaise, buy: p.buyValuePaise, sell: p.sellValuePaise },
      ]),
    ),
  };
}

async function assertConsistent(): Promise<{ orders: number; fills: number }> {
  // no client order id placed twice
  const twice = await db.query("SELECT payload->'order'->>'clientOrderId' AS id FROM journal WHERE type = 'OrderPlaced' GROUP BY 1 HAVING count(*) > 1");
  expect(twice.rows).toEqual([]);
  // the portfolio on disk is exactly the first fillCount fills of the journal: none lost, none invented
  const fills = (await journalFills()).filter((fill) => fill.portfolioId === 'paper');
  const snapshot = await portfolioSnapshot();
  if (snapshot) {
    expect(snapshot.fillCount).toBeLessThanOrEqual(fills.length);
    let expected = newPortfolio('paper', INITIAL_CASH_PAISE);
    for (const fill of fills.slice(0, snapshot.fillCount)) expected = applyFillToPortfolio(expected, fill);
    expect(booked(snapshot)).toEqual(booked(expected));
  }
  // the query tables follow the journal
  const orders = Number(
    (await db.query<{ n: string }>("SELECT count(DISTINCT payload->'order'->>'clientOrderId')::text AS n FROM journal WHERE type = 'OrderPlaced'")).rows[0]!.n,
  );
  const trades = Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM trades')).rows[0]!.n);
  expect(trades).toBe(fills.length);
  expect(Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM orders')).rows[0]!.n)).toBe(orders);
  return { orders, fills: fills.length };
}

async function waitFor(probe: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return false;
}

describe('kill -9 (real process, real PostgreSQL)', () => {
  it(`survives ${KILLS} SIGKILLs in a row: nothing sent twice, no fill lost, positions = Σ fills, trading resumes`, async () => {
    const rng = new Random(SEED);
    const restartToTrading: number[] = [];
    const restartToReady: number[] = [];
    let resumedCycles = 0;
    let previous = { orders: 0, fills: 0 };
    for (let cycle = 0; cycle <= KILLS; cycle += 1) {
      const before = await maxSequence('OrderPlaced');
      const spawnedAt = Date.now();
      const { lines, readyMs } = await start();
      restartToReady.push(readyMs);
      if (cycle > 0) {
        const recovered = lines
          .map((line) => JSON.parse(line) as { message?: string; 'troupe.context.placedMoreThanOnce'?: string[] })
          .find((entry) => entry.message === 'recovered from the journal');
        expect(recovered?.['troupe.context.placedMoreThanOnce']).toEqual([]);
      }
      // trading resumes: a new order is journaled (placed) by this process
      const traded = await waitFor(async () => (await maxSequence('OrderPlaced')) > before, 8_000);
      if (traded) {
        resumedCycles += 1;
        if (cycle > 0) restartToTrading.push(Date.now() - spawnedAt);
      }
      if (cycle === KILLS) {
        child!.kill('SIGTERM');
        await once(child!, 'exit');
      } else {
        await new Promise((resolve) => setTimeout(resolve, 100 + rng.int(1200)));
        await killHard();
      }
      const now = await assertConsistent();
      expect(now.orders).toBeGreaterThanOrEqual(previous.orders);
      expect(now.fills).toBeGreaterThanOrEqual(previous.fills);
      previous = now;
    }
    expect(resumedCycles).toBeGreaterThanOrEqual(KILLS); // at most one quiet cycle
    expect(previous.fills).toBeGreaterThan(0);
    const sorted = [...restartToTrading].sort((a, b) => a - b);
    const p50 = sorted[Math.floor(sorted.length / 2)] ?? NaN;
    const worst = sorted.at(-1) ?? NaN;
    process.stdout.write(
      `kill -9 x${KILLS}: ${previous.orders} orders, ${previous.fills} fills; restart-to-ready ms ${restartToReady.slice(1).join(',')}; restart-to-trading (first new order journaled) p50 ${p50} ms, max ${worst} ms\n`,
    );
    // the figure is reported (target < 5 s), not asserted: it depends on what else shares the machine's cores
    mkdirSync(join('test-results'), { recursive: true });
    writeFileSync(
      join('test-results', 'kill9.json'),
      `${JSON.stringify({ kills: KILLS, orders: previous.orders, fills: previous.fills, restartToTradingMs: restartToTrading, restartToReadyMs: restartToReady.slice(1), p50, max: worst, loadAverage: loadavg() }, null, 2)}\n`,
    );
    expect(restartToTrading.length).toBeGreaterThanOrEqual(KILLS - 1);
  }, 150_000);
});
