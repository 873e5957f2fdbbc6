/**
 * `npm run bench:backtest [-- --json] [--part strategies|year|all] [--symbols 50] [--sessions 250]`
 *
 * 1. strategies: every strategy kind of the registry (the seven; not the tutorial's) on all
 *    of ../shared/data/nse-daily and on ../shared/data/nse-5min, ticks generated inside the
 *    bars: bars/s and ticks/s of each whole backtest (reading the CSV files excluded).
 *    vwap-reversion and opening-range are intraday strategies and refuse daily bars: n/a.
 * 2. year: 50 symbols × 250 sessions of 5-minute bars (≈ 940,000 bars, 3.75M ticks), composed
 *    in memory from the real 5-minute sessions (bench/backtest-data.ts), with ema-cross on
 *    5-minute bars. Target: under 10 s.
 * Prints a table (progress on stderr); with --json prints one JSON object; always writes
 * bench/results/backtest.json (a single --part keeps the other part's last figures there).
 * `--part all` measures each part in a process of its own (as JMH forks per benchmark): run after
 * the seven strategies in one process, the year took 9–11 s where it takes 7–9 s alone, the JIT
 * having seen every strategy's shapes in the shared code.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { loadCsvData, runBacktest, type BacktestData } from '../src/backtest/backtest.js';
import { intOption, UsageError } from '../src/cli/args.js';
import { composeFiveMinuteYear } from './backtest-data.js';
import { benchArgs } from './support.js';

const OPTIONS = [
  { name: 'part', description: 'strategies, year or all', default: 'all', valueName: 'name' },
  { name: 'symbols', description: 'Symbols of the year run', default: '50', valueName: 'n' },
  { name: 'sessions', description: 'Sessions (days) of the year run', default: '250', valueName: 'n' },
  { name: 'json', description: 'Print one JSON object', flag: true },
] as const;

const values = benchArgs(
  'npm run bench:backtest --',
  'Backtest throughput: every strategy on the shared NSE data, and a year of 5-minute bars for 50 symbols.',
  OPTIONS,
);
const part = values.part!;
if (!['strategies', 'year', 'all'].includes(part)) throw new UsageError(`--part must be strategies, year or all, got "${part}"`);
const asJson = values.json === 'true';
const say = (line: string): void => {
  if (!asJson) process.stderr.write(`${line}\n`);
};
const DATA = resolve(process.cwd(), '../shared/data');

interface Run {
  readonly data: string;
  readonly strategy: string;
  readonly bars: number;
  readonly ticks: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly barsPerSec: number;
  readonly ticksPerSec: number;
  readonly fills: number;
  readonly note?: string;
}

async function measure(label: string, data: BacktestData, dataDir: string, strategyKind: string, strategyConfig: Record<string, unknown>): Promise<Run> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  let lastShown = 0;
  const result = await runBacktest({
    dataDir,
    data,
    strategyKind,
    strategyConfig,
    onProgress: (done, total) => {
      const now = performance.now();
      if (now - lastShown > 2000) {
        lastShown = now;
        say(`  ${label} ${strategyKind}: ${Math.floor((done * 100) / Math.max(1, total))}% (${done.toLocaleString('en-IN')} ticks)`);
      }
    },
  });
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return {
    data: label,
    strategy: strategyKind,
    bars: result.meta.bars,
    ticks: result.meta.ticks,
    seconds: Number(seconds.toFixed(2)),
    cpuSeconds: Number(((used.user + used.system) / 1e6).toFixed(2)),
    barsPerSec: Math.round(result.meta.bars / seconds),
    ticksPerSec: Math.round(result.meta.ticks / seconds),
    fills: result.summary.fills,
  };
}

/** Settings per strategy kind and data interval (null: the strategy does not run on it). */
function configFor(kind: string, interval: '1d' | '5m'): Record<string, unknown> | null {
  switch (kind) {
    case 'ema-cross':
      return { source: interval };
    case 'rsi-reversion':
    case 'breakout':
      return { interval };
    case 'vwap-reversion':
    case 'opening-range':
      return interval === '1d' ? null : { interval };
    case 'pairs':
      // its short leg is MIS: intraday bars only
      return interval === '1d' ? null : { symbols: ['HDFCBANK', 'ICICIBANK'], interval };
    case 'momentum-rotation':
      return { interval: '1d' }; // daily rebalance; on 5-minute data its daily bars are built from the ticks
    default:
      return null;
  }
}

const KINDS = ['ema-cross', 'rsi-reversion', 'breakout', 'vwap-reversion', 'opening-range', 'pairs', 'momentum-rotation'];

async function strategies(): Promise<Run[]> {
  const runs: Run[] = [];
  for (const [label, interval] of [
    ['nse-daily', '1d'],
    ['nse-5min', '5m'],
  ] as const) {
    const dir = resolve(DATA, label);
    const data = await loadCsvData(dir);
    say(`${label}: ${data.instruments.length} symbols`);
    for (const kind of KINDS) {
      const config = configFor(kind, interval);
      if (config === null) {
        runs.push({
          data: label,
          strategy: kind,
          bars: 0,
          ticks: 0,
          seconds: 0,
          cpuSeconds: 0,
          barsPerSec: 0,
          ticksPerSec: 0,
          fills: 0,
          note: 'n/a: intraday only, refuses daily bars',
        });
        continue;
      }
      runs.push(await measure(label, data, dir, kind, config));
      const run = runs[runs.length - 1]!;
      say(`  ${label} ${kind}: ${run.bars} bars in ${run.seconds} s (${run.barsPerSec} bars/s, ${run.ticksPerSec} ticks/s)`);
    }
  }
  return runs;
}

async function year(): Promise<Run> {
  const symbols = intOption(values, 'symbols');
  const sessions = intOption(values, 'sessions');
  const base = await loadCsvData(resolve(DATA, 'nse-5min'));
  const data = composeFiveMinuteYear(base, symbols, sessions);
  let bars = 0;
  for (const list of data.bars.values()) bars += list.length;
  say(`year: ${symbols} symbols × ${sessions} sessions = ${bars.toLocaleString('en-IN')} 5-minute bars composed from nse-5min`);
  const run = await measure(`composed ${symbols}×${sessions}`, data, 'memory:composed-from-nse-5min', 'ema-cross', { source: '5m' });
  say(`  ${run.bars} bars in ${run.seconds} s (${run.barsPerSec} bars/s, ${run.ticksPerSec} ticks/s)`);
  return run;
}

type Result = { benchmark: string; node: string; strategies?: Run[]; year?: Run & { targetSeconds: number; metTarget: boolean } };

/** One part measured in a fresh process (this script with `--part <name> --json`); its progress goes to our stderr. */
function inOwnProcess(name: 'strategies' | 'year'): Result {
  const args = [...process.execArgv, process.argv[1]!, '--part', name, '--json', '--symbols', values.symbols!, '--sessions', values.sessions!];
  const child = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', asJson ? 'ignore' : 'inherit'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (child.status !== 0) throw new Error(`the ${name} part failed (exit ${child.status ?? child.signal})`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Result;
}

const result: Result = { benchmark: 'backtest', node: process.version };
if (part === 'all') {
  const { strategies: measured } = inOwnProcess('strategies');
  const { year: yearRun } = inOwnProcess('year');
  if (measured === undefined || yearRun === undefined) throw new Error('a part reported no figures');
  result.strategies = measured;
  result.year = yearRun;
} else if (part === 'strategies') {
  result.strategies = await strategies();
} else {
  const run = await year();
  result.year = { ...run, targetSeconds: 10, metTarget: run.seconds < 10 };
}
mkdirSync('bench/results', { recursive: true });
const RESULTS = 'bench/results/backtest.json';
if (part !== 'all' && existsSync(RESULTS)) {
  // one part measured: keep the other part's last figures
  const previous = JSON.parse(readFileSync(RESULTS, 'utf8')) as typeof result;
  if (result.strategies === undefined && previous.strategies !== undefined) result.strategies = previous.strategies;
  if (result.year === undefined && previous.year !== undefined) result.year = previous.year;
}
writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
if (asJson) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const rows = [...(result.strategies ?? []), ...(result.year ? [result.year] : [])].map((run) => [
    run.data,
    run.strategy,
    run.note ?? run.bars.toLocaleString('en-IN'),
    run.note ? '' : run.ticks.toLocaleString('en-IN'),
    run.note ? '' : `${run.seconds} s`,
    run.note ? '' : `${run.cpuSeconds} s`,
    run.note ? '' : run.barsPerSec.toLocaleString('en-IN'),
    run.note ? '' : run.ticksPerSec.toLocaleString('en-IN'),
    run.note ? '' : String(run.fills),
  ]);
  const header = ['data', 'strategy', 'bars', 'ticks', 'wall', 'cpu', 'bars/s', 'ticks/s', 'fills'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => (column < 2 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  process.stdout.write(`${[line(header), ...rows.map(line)].join('\n')}\n(written to bench/results/backtest.json)\n`);
}
