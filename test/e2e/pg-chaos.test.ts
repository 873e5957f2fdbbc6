/**
 * PostgreSQL chaos: Troupe runs as a real child process (`node --import tsx src/main.ts`, paper
 * broker, fast synthetic market, market data recorded with COPY, the single-writer lease as a
 * PostgreSQL advisory lock) on a dedicated throwaway server that this test stops with an
 * immediate shutdown (SIGQUIT, like `pg_ctl stop -m immediate`) 20 times at seeded random
 * moments while two clients keep placing orders through the API (and the demo strategy trades).
 *
 * After each stop: the process is alive, market data still reaches the actors, orders are
 * refused (503, never 500: the API key lookups fail too) rather than lost; after each restart trading resumes by itself. At the end every
 * order the API acknowledged (201) is in the journal. If the process dies, the test notes the
 * exit (and its last stderr), starts it again and carries on, so the figures say how many stops
 * killed it: they must be 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresDatabase } from '../../src/persistence/database.js';
import { migrate } from '../../src/persistence/migrate.js';
import { Random } from '../../src/streams/random.js';
import { usePostgres, type DedicatedPostgresService } from '../support/services.js';

const STOPS = 20;
/** Crashes after which the run gives up (PG_CHAOS_ALL_STOPS=1: carry on through every stop, to count them all). */
const GIVE_UP_AFTER_EXITS = process.env.PG_CHAOS_ALL_STOPS === '1' ? Number.POSITIVE_INFINITY : 2;
const SEED = 0x5eed_2026;
const ADMIN = { username: 'ops', password: 'pg-chaos-test-password' };

let server: DedicatedPostgresService;
let dataDir: string;
let child: ChildProcess | undefined;

beforeAll(async () => {
  server = await usePostgres({ dedicated: true });
  const database = new PostgresDatabase(server.url, { poolMin: 0, poolMax: 2, statementTimeoutMs: 5000, connectTimeoutMs: 2000 });
  await migrate(database);
  await database.close();
  dataDir = mkdtempSync(join(tmpdir(), 'troupe-pg-chaos-'));
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** One query on a fresh connection of the test's own (the server restarts under it). */
async function sql<T>(text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Polls `probe` until true; false after `timeoutMs`. */
async function until(probe: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return false;
}

interface Troupe {
  readonly proc: ChildProcess;
  readonly base: string;
  readonly stderr: () => string;
}

/** Starts Troupe (again when a start right after a restart of the server fails: it may still be in recovery). */
async function startTroupe(): Promise<Troupe> {
  for (let attempt = 1; ; attempt += 1) {
    await until(async () => (await sql<{ up: number }>('SELECT 1 AS up').catch(() => [])).length === 1, 15_000);
    try {
      return await startOnce();
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

/** Starts Troupe; resolves once it trades and listens. */
async function startOnce(): Promise<Troupe> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: server.url,
      REDIS_URL: '',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      TROUPE_DATA_DIR: dataDir,
      TROUPE_MARKET_SPEED: '60',
      TROUPE_SYMBOLS: '10',
      ADMIN_USER: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
      // the same signing key across restarts after a crash (if there is one): the test's token stays valid
      TROUPE_JWT_SECRET: 'pg-chaos-test-jwt-secret-0123456789abcdef',
      TROUPE_DB_STATEMENT_TIMEOUT_MS: '5000',
      // the advisory lease is checked every 300 ms: taken again soon after each restart
      TROUPE_LEASE_TTL_MS: '900',
      TROUPE_LEASE_WAIT_MS: '10000',
      TROUPE_RECORD_MARKET_DATA: 'true',
      TROUPE_RATE_LIMIT_PER_MINUTE: '1000000',
      TROUPE_RISK_MAX_ORDERS_PER_SECOND: '1000',
      TROUPE_RISK_MAX_ORDERS_PER_SECOND_PER_STRATEGY: '1000',
      // risk limits are test/risk's subject: the day's loss must not stop the trading this test waits for
      TROUPE_RISK_MAX_DAILY_LOSS_RUPEES: '100000000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const reader = createInterface({ input: proc.stdout });
  const port = await new Promise<number>((resolve, reject) => {
    reader.on('line', (line) => {
      if (!line.includes('"Troupe is trading')) return;
      resolve((JSON.parse(line) as { 'server.port': number })['server.port']);
    });
    proc.once('exit', (code, signal) => reject(new Error(`troupe exited (${String(code ?? signal)}) before trading: ${stderr}`)));
  });
  return { proc, base: `http://127.0.0.1:${port}`, stderr: () => stderr };
}

async function call(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

describe('PostgreSQL chaos (real process, dedicated server stopped 20 times under order load)', () => {
  it(
    `survives ${STOPS} immediate stops: no process exit, no acknowledged order lost, trading resumes after each restart`,
    async () => {
      const startedAt = Date.now();
      const rng = new Random(SEED);
      let troupe = await startTroupe();
      const exits: { afterStop: number; reason: string }[] = [];
      let stopsDone = 0;
      const watch = (t: Troupe): void => {
        t.proc.once('exit', (code, signal) => {
          if (stopping) return;
          process.stderr.write(`pg chaos: troupe exited (${String(code ?? signal)}) after stop ${stopsDone}: ${t.stderr()}\n`);
          exits.push({
            afterStop: stopsDone,
            reason: `exit ${String(code ?? signal)}: ${t
              .stderr()
              .split('\n')
              .filter((line) => /Error|error/.test(line))
              .slice(0, 3)
              .join(' | ')}`,
          });
        });
      };
      let stopping = false;
      watch(troupe);
      /** After a crash (there must be none): start again so the run goes on and the figures count every crash. */
      const alive = async (): Promise<void> => {
        if (troupe.proc.exitCode === null && troupe.proc.signalCode === null) return;
        troupe = await startTroupe();
        watch(troupe);
      };

      const login = await call(troupe.base, 'POST', '/api/v1/auth/login', {}, ADMIN);
      expect(login.status).toBe(200);
      const bearer = { authorization: `Bearer ${String(login.body.accessToken)}` };
      const created = await call(troupe.base, 'POST', '/api/v1/api-keys', bearer, { name: 'chaos', role: 'trader', rateLimitPerMinute: null });
      expect(created.status).toBe(201);
      const key = { 'x-api-key': String(created.body.key) };
      const instruments = await call(troupe.base, 'GET', '/api/v1/instruments', key);
      const symbols = (instruments.body.items as { symbol: string }[]).map((item) => item.symbol);

      // order load: two clients, one order in flight each, alternating sides
      const acknowledged: string[] = [];
      const answers = new Map<number | string, number>();
      let loadRunning = true;
      const client = async (id: number): Promise<void> => {
        for (let n = 0; loadRunning; n += 1) {
          try {
            const answer = await call(troupe.base, 'POST', '/api/v1/orders', key, {
              symbol: symbols[(id + n) % symbols.length],
              side: n % 2 === 0 ? 'BUY' : 'SELL',
              quantity: 1,
            });
            answers.set(answer.status, (answers.get(answer.status) ?? 0) + 1);
            if (answer.status === 201) acknowledged.push(String(answer.body.clientOrderId));
            else if (answer.status >= 500) await new Promise((resolve) => setTimeout(resolve, 20)); // refused while down: do not spin
          } catch {
            answers.set('no answer', (answers.get('no answer') ?? 0) + 1); // the process is gone (or restarting)
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
      };
      const load = [client(0), client(1)];

      // ticks handed to the actors (the metrics need no credentials, so no store either)
      const delivered = async (): Promise<number> => {
        const text = await (await fetch(`${troupe.base}/metrics`)).text();
        return Number(/^troupe_ticks_delivered_total\{source="synthetic"\} (\d+)/m.exec(text)?.[1] ?? NaN);
      };
      const resumed: number[] = [];
      const refusedWhileDown: number[] = [];
      try {
        for (let stop = 1; stop <= STOPS; stop += 1) {
          // trading: orders are acknowledged (after the first start, or after the last restart)
          const before = acknowledged.length;
          const restartedAt = Date.now();
          expect(await until(() => acknowledged.length > before, 20_000)).toBe(true);
          if (stop > 1) resumed.push(Date.now() - restartedAt);
          // a seeded random moment: after 1–6 more acknowledged orders and 0–60 ms
          const more = acknowledged.length + 1 + rng.int(6);
          await until(() => acknowledged.length >= more, 10_000);
          await new Promise((resolve) => setTimeout(resolve, rng.int(60)));

          await server.kill();
          stopsDone = stop;
          const refusedBefore = answers.get(503) ?? 0;
          // down: orders are refused (fail closed), market data still reaches the actors
          await until(() => (answers.get(503) ?? 0) > refusedBefore || exits.length > 0, 10_000);
          refusedWhileDown.push((answers.get(503) ?? 0) - refusedBefore);
          if (exits.length === 0) {
            const ticks = await delivered().catch(() => Number.NaN);
            const flowing = await until(async () => exits.length > 0 || (await delivered().catch(() => Number.NaN)) > ticks, 10_000);
            if (exits.length === 0) expect(flowing).toBe(true);
          }
          await server.restart();
          if (exits.length >= GIVE_UP_AFTER_EXITS) break;
          await alive();
        }
        if (exits.length < GIVE_UP_AFTER_EXITS) {
          const before = acknowledged.length;
          const restartedAt = Date.now();
          expect(await until(() => acknowledged.length > before, 20_000)).toBe(true);
          resumed.push(Date.now() - restartedAt);
        }
      } finally {
        loadRunning = false;
        await Promise.all(load);
        stopping = true;
        if (troupe.proc.exitCode === null && troupe.proc.signalCode === null) {
          troupe.proc.kill('SIGTERM');
          await once(troupe.proc, 'exit');
        }
      }

      // every acknowledged order is in the journal
      const placed = new Set(
        (await sql<{ id: string }>("SELECT payload->'order'->>'clientOrderId' AS id FROM journal WHERE type = 'OrderPlaced'")).map((row) => row.id),
      );
      const lost = acknowledged.filter((id) => !placed.has(id));
      const runMs = Date.now() - startedAt;
      const figures = {
        stops: STOPS,
        stopsDone,
        survived: stopsDone - new Set(exits.map((exit) => exit.afterStop)).size,
        processExits: exits.length,
        exits,
        acknowledged: acknowledged.length,
        lostAcknowledged: lost.length,
        answers: Object.fromEntries(answers),
        refusedWhileDown,
        restartToTradingMs: resumed,
        runMs,
      };
      process.stdout.write(
        `pg chaos: survived ${figures.survived}/${stopsDone} stops, process exits ${exits.length}, acknowledged ${acknowledged.length}, lost ${lost.length}; answers ${JSON.stringify(figures.answers)}; run ${runMs} ms\n`,
      );
      mkdirSync('test-results', { recursive: true });
      writeFileSync(join('test-results', 'pg-chaos.json'), `${JSON.stringify(figures, null, 2)}\n`);
      expect(exits).toEqual([]);
      expect(lost).toEqual([]);
      // refused while down: 503 (with Retry-After), never a 500
      expect(Object.keys(figures.answers).filter((status) => Number(status) >= 500 && Number(status) !== 503)).toEqual([]);
      expect(acknowledged.length).toBeGreaterThan(STOPS);
      expect(resumed.length).toBe(STOPS);
    },
    process.env.PG_CHAOS_ALL_STOPS === '1' ? 900_000 : 180_000,
  );
});
