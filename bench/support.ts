/**
 * What the runtime, gateway and combined-load benchmarks share: the synthetic tick workload and
 * its lifted risk limits, ticks offered at a fixed rate, percentiles and event-loop delays, the
 * bench API key, autocannon in a child process, and the table they print; and every benchmark's
 * command line (`--help`, `--store`).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance, type IntervalHistogram } from 'node:perf_hooks';
import { GCProfiler } from 'node:v8';
import { parseArgs, usage, type OptionSpec } from '../src/cli/args.js';
import { loadConfig, type TroupeConfig } from '../src/config/config.js';
import type { Principal } from '../src/gateway/auth/auth-service.js';
import type { Instrument, Tick } from '../src/model/index.js';
import { DEFAULT_RISK_MANAGER_LIMITS } from '../src/risk/risk-manager.js';
import type { ManualClock } from '../src/runtime/clock.js';
import { createSyntheticMarket } from '../src/streams/index.js';

/** Yields one event-loop turn (the actors' mailboxes run in between). */
export const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** `value` rounded to `digits` decimals. */
export const round = (value: number, digits = 0): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** The `p`th percentile (0–100) of ascending `sorted` values, nearest rank; NaN for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** An event-loop delay histogram's p50, p99 and max, in ms (two decimals). */
export function loopDelay(histogram: IntervalHistogram): { p50Ms: number; p99Ms: number; maxMs: number } {
  return { p50Ms: round(histogram.percentile(50) / 1e6, 2), p99Ms: round(histogram.percentile(99) / 1e6, 2), maxMs: round(histogram.max / 1e6, 2) };
}

/** Garbage collections during a phase: young-generation scavenges and full mark-compacts, count, total and longest pause (ms). */
export interface GcFigures {
  readonly scavenges: number;
  readonly scavengeMs: number;
  readonly scavengeMaxMs: number;
  readonly markCompacts: number;
  readonly markCompactMs: number;
  readonly markCompactMaxMs: number;
}

/**
 * Starts counting garbage collections; the function returned stops and gives the figures. V8's
 * GC profiler answers synchronously (a `PerformanceObserver` delivers its entries on a later
 * turn, so it misses a phase that never yields, such as the bare loop).
 */
export function watchGc(): () => GcFigures {
  const profiler = new GCProfiler();
  profiler.start();
  return () => {
    const totals = { scavenges: 0, scavengeMs: 0, scavengeMaxMs: 0, markCompacts: 0, markCompactMs: 0, markCompactMaxMs: 0 };
    for (const { gcType, cost } of profiler.stop()?.statistics ?? []) {
      const ms = cost / 1000;
      if (gcType === 'Scavenge' || gcType === 'MinorMarkSweep') {
        totals.scavenges += 1;
        totals.scavengeMs += ms;
        totals.scavengeMaxMs = Math.max(totals.scavengeMaxMs, ms);
      } else if (gcType === 'MarkSweepCompact') {
        totals.markCompacts += 1;
        totals.markCompactMs += ms;
        totals.markCompactMaxMs = Math.max(totals.markCompactMaxMs, ms);
      }
    }
    return {
      scavenges: totals.scavenges,
      scavengeMs: round(totals.scavengeMs),
      scavengeMaxMs: round(totals.scavengeMaxMs, 1),
      markCompacts: totals.markCompacts,
      markCompactMs: round(totals.markCompactMs),
      markCompactMaxMs: round(totals.markCompactMaxMs, 1),
    };
  };
}

/** {@link GcFigures} in one line. */
export function gcText(gc: GcFigures): string {
  return `GC: ${gc.scavenges} scavenges ${gc.scavengeMs} ms (longest ${gc.scavengeMaxMs}), ${gc.markCompacts} mark-compacts ${gc.markCompactMs} ms (longest ${gc.markCompactMaxMs})`;
}

/**
 * The order-rate, exposure and daily-loss limits would refuse most orders of the churny EMA
 * 12/26 workload (and trip the kill switch); the benchmarks lift them so that every run does the
 * same, order-heavy work. Every check still runs on every intent.
 */
export const BENCH_RISK_LIMITS = {
  ...DEFAULT_RISK_MANAGER_LIMITS,
  maxOrdersPerSecond: 100_000,
  maxOrdersPerSecondPerStrategy: 100_000,
  maxGrossExposurePaise: 1_000_000_000_00,
  maxNetExposurePaise: 1_000_000_000_00,
  maxDailyLossPaise: 1_000_000_000_00,
};

/** `count` ticks of the synthetic market (`symbols` symbols, 4 ticks a symbol a second), in batches of at most `batchSize`. */
export function generateTicks(symbols: number, count: number, seed: number, batchSize = 8192): { instruments: readonly Instrument[]; batches: Tick[][] } {
  const market = createSyntheticMarket({ symbols, seed, ticksPerSymbolPerSecond: 4 });
  const batches: Tick[][] = [];
  for (let made = 0; made < count;) {
    const batch = market.nextBatch(Math.min(batchSize, count - made));
    batches.push(batch);
    made += batch.length;
  }
  return { instruments: market.instruments, batches };
}

/** A batch's ticks by symbol, in order. */
export function groupBySymbol(batch: readonly Tick[]): Map<string, Tick[]> {
  const groups = new Map<string, Tick[]>();
  for (const tick of batch) {
    let list = groups.get(tick.symbol);
    if (!list) groups.set(tick.symbol, (list = []));
    list.push(tick);
  }
  return groups;
}

/** What {@link offerAtRate} feeds: the runtime's tick inlet and the clock its strategies read. */
export interface PacedTarget {
  readonly runtime: { offerTicks(symbol: string, ticks: readonly Tick[]): unknown };
  readonly clock: ManualClock;
}

/** Where {@link offerAtRate} takes its ticks from, in order: the synthetic market itself (see {@link syntheticMarket}). */
export interface TickSource {
  nextBatch(maxTicks: number): Tick[];
}

/** The synthetic market of {@link generateTicks} (same symbols, same seed, same ticks), to be read as it goes. */
export function syntheticMarket(symbols: number, seed: number): { instruments: readonly Instrument[]; source: TickSource } {
  const market = createSyntheticMarket({ symbols, seed, ticksPerSymbolPerSecond: 4 });
  return { instruments: market.instruments, source: market };
}

/**
 * `tick` as it arrives: a new object stamped with its arrival time, built field by field as a
 * feed's decoder builds it (`{ ...tick, receivedMonoMs }` would make a slow dictionary-mode
 * object of 3× the size, and every actor that reads it would pay for that).
 */
function arrived(tick: Tick, receivedMonoMs: number): Tick {
  const { type, symbol, token, ltpPaise, lastQuantity, volume, bidPaise, askPaise, bidQuantity, askQuantity, exchangeTimeMs } = tick;
  if (bidPaise === undefined || askPaise === undefined || bidQuantity === undefined || askQuantity === undefined || tick.depth !== undefined)
    return { ...tick, receivedMonoMs };
  return { type, symbol, token, ltpPaise, lastQuantity, volume, bidPaise, askPaise, bidQuantity, askQuantity, exchangeTimeMs, receivedMonoMs };
}

/**
 * Offers `count` ticks of `source` at `rate` ticks/s: on each event-loop turn the ticks now due,
 * made as they arrive (so the input is not a heap of its own that the collector must walk),
 * stamped with their arrival time (`receivedMonoMs`, from which tick→order latency is measured),
 * grouped by symbol, the clock advanced to the last. Calls `afterTurn` with the number offered so
 * far after each turn; returns that number at the end.
 */
export function offerAtRate(target: PacedTarget, source: TickSource, count: number, rate: number, afterTurn?: (sent: number) => void): Promise<number> {
  let sent = 0;
  const start = performance.now();
  // one callback for every turn, not a promise and a closure per turn: spinning at tens of
  // thousands of turns a second, those were a fifth of the bytes the latency run allocated
  return new Promise((resolve) => {
    const step = (): void => {
      const due = Math.min(count, Math.floor(((performance.now() - start) * rate) / 1000));
      if (due > sent) {
        const now = performance.now();
        const groups = new Map<string, Tick[]>();
        for (const generated of source.nextBatch(due - sent)) {
          const tick = arrived(generated, now);
          let list = groups.get(tick.symbol);
          if (!list) groups.set(tick.symbol, (list = []));
          list.push(tick);
          target.clock.advanceTo(tick.exchangeTimeMs);
        }
        sent = due;
        for (const [symbol, list] of groups) target.runtime.offerTicks(symbol, list);
      }
      // the actors' queued work runs in the turn between two steps, as it did between two awaits
      setImmediate(afterStep);
    };
    const afterStep = (): void => {
      afterTurn?.(sent);
      if (sent < count) step();
      else resolve(sent);
    };
    step();
  });
}

/** The gateway's auth service, as far as {@link benchApiKey} needs it. */
interface BenchAuth {
  readonly store: { userByName(name: string): Promise<{ readonly id: string } | undefined> };
  createApiKey(owner: Principal, options: { name: string; role: 'viewer'; rateLimitPerMinute: null }): Promise<{ readonly key: string }>;
}

/**
 * A viewer API key of the `bench` admin with its rate limit lifted (`rateLimitPerMinute: null`:
 * the limiter's hook still runs and lets it through uncounted), checked and warmed up (JIT,
 * schema serializers) with 200 `GET /api/v1/positions`.
 */
export async function benchApiKey(auth: BenchAuth, base: string): Promise<string> {
  const admin = await auth.store.userByName('bench');
  if (admin === undefined) throw new Error('the bench admin user was not created (ADMIN_USER=bench)');
  const owner: Principal = { kind: 'user', userId: admin.id, name: 'user:bench', role: 'admin', rateKey: 'user:bench', rateLimitPerMinute: undefined };
  const { key } = await auth.createApiKey(owner, { name: 'bench', role: 'viewer', rateLimitPerMinute: null });
  for (let i = 0; i < 200; i += 1) {
    const response = await fetch(`${base}/api/v1/positions`, { headers: { 'x-api-key': key } });
    if (response.status !== 200) throw new Error(`positions answered ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
  }
  return key;
}

/** What autocannon reports (the fields the benchmarks read), with the load generator's own CPU time. */
export interface AutocannonResult {
  readonly requests: { readonly average: number; readonly total: number };
  readonly latency: { readonly p50: number; readonly p97_5: number; readonly p99: number; readonly max: number };
  readonly throughput: { readonly average: number };
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  /** The load generator's own CPU time (user + system) over the run, µs. */
  readonly cpuUs: number;
}

// it reports its own CPU time too: on 2 cores a saturated load generator caps what can be measured
const AUTOCANNON_SCRIPT = `
const autocannon = require(process.env.AUTOCANNON);
const cpuStart = process.cpuUsage();
autocannon(JSON.parse(process.env.OPTIONS), (error, result) => {
  if (error) { console.error(error); process.exit(1); }
  const cpu = process.cpuUsage(cpuStart);
  process.stdout.write(JSON.stringify({ ...result, cpuUs: cpu.user + cpu.system }));
});`;

/** Runs autocannon with `options` in a child process (its own event loop and CPU account, not the server's). */
export function runAutocannon(options: Record<string, unknown>): Promise<AutocannonResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', AUTOCANNON_SCRIPT], {
      env: { ...process.env, AUTOCANNON: createRequire(import.meta.url).resolve('autocannon'), OPTIONS: JSON.stringify(options) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(output) as AutocannonResult) : reject(new Error(`autocannon exited with ${code}`))));
  });
}

/** Prints `rows` as a two-column table, then where the results were written. */
export function printTable(rows: readonly (readonly [string, string])[], writtenTo: string): void {
  const width = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(`${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n(written to ${writtenTo})\n`);
}

/** The benchmark's options from the command line; with `--help`, prints their usage and exits. */
export function benchArgs(command: string, summary: string, options: readonly OptionSpec[]): Record<string, string> {
  const values = parseArgs(process.argv.slice(2), options);
  if (values) return values;
  process.stdout.write(`${usage(command, summary, options)}\n`);
  process.exit(0);
}

/** The `--store` option: `postgres` (a throwaway server, or a fresh database on DATABASE_URL) or `pglite` (embedded). */
export function storeOption(values: Record<string, string>): 'postgres' | 'pglite' {
  const store = values['store'];
  if (store !== 'postgres' && store !== 'pglite') throw new Error(`--store must be postgres or pglite, got ${store}`);
  return store;
}

/**
 * The configuration of a benchmarked Troupe: a fresh data directory (not the checkout's `.troupe`,
 * which `npm start` uses), the database of `postgres` when given (else the embedded one), an
 * ephemeral loopback port, no logs, and the `bench` admin that {@link benchApiKey} reads; `extra`
 * adds to it. Remove `dataDir` when done.
 */
export function benchConfig(
  name: string,
  postgres: { readonly url: string } | undefined,
  extra: Record<string, string> = {},
): { config: TroupeConfig; dataDir: string } {
  const dataDir = mkdtempSync(join(tmpdir(), `troupe-${name}-bench-`));
  const config = loadConfig({
    TROUPE_DATA_DIR: dataDir,
    ...(postgres ? { DATABASE_URL: postgres.url } : {}),
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    ADMIN_USER: 'bench',
    ADMIN_PASSWORD: 'bench-password-123',
    ...extra,
  });
  return { config, dataDir };
}

/**
 * A CPU profile of one measured phase (not of the set-up around it): started here, written to
 * `bench/results/<name>.cpuprofile` (open it in Chrome DevTools or summarise it with
 * `bench/profile-summary.ts`) by the function returned. Costs nothing when `enabled` is false.
 */
export async function profilePhase(name: string, enabled: boolean): Promise<() => Promise<void>> {
  if (!enabled) return () => Promise.resolve();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync('bench/results', { recursive: true });
    writeFileSync(`bench/results/${name}.cpuprofile`, JSON.stringify(profile));
    session.disconnect();
  };
}
