import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCsvData, runBacktest } from '../../src/backtest/backtest.js';
import { runSweep, runWalkForward, type OptimiseOptions, type SweepReport } from '../../src/backtest/optimise.js';
import { createJobRunner } from '../../src/backtest/pool.js';
import { stableJson } from '../../src/backtest/stable-json.js';
import {
  parseObjective,
  parseSweep,
  parseWalkForward,
  rankRows,
  SweepSpecError,
  sweepGrid,
  walkForwardWindows,
  type RunFigures,
  type SweepRow,
} from '../../src/backtest/sweep.js';
import { backtestCommand } from '../../src/cli/backtest.js';
import { istTimeMs } from '../../src/model/index.js';

const DAILY = resolve(process.cwd(), '../shared/data/nse-daily');
const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-sweep-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Every file under `dir` with its bytes, by relative path. */
function tree(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files[path.slice(dir.length + 1)] = readFileSync(path, 'utf8');
  }
  return files;
}

describe('sweep specifications', () => {
  it('reads ranges with steps (decimals exact), lists and words', () => {
    expect(parseSweep('fastPeriod=5..20:5')).toEqual({ name: 'fastPeriod', values: [5, 10, 15, 20] });
    expect(parseSweep('slowPeriod=30..33')).toEqual({ name: 'slowPeriod', values: [30, 31, 32, 33] });
    expect(parseSweep('entryBps=0.1..0.5:0.2')).toEqual({ name: 'entryBps', values: [0.1, 0.3, 0.5] });
    expect(parseSweep('period=7..20:5')).toEqual({ name: 'period', values: [7, 12, 17] });
    expect(parseSweep('slowPeriod=30,45,60')).toEqual({ name: 'slowPeriod', values: [30, 45, 60] });
    expect(parseSweep('source=5m,15m')).toEqual({ name: 'source', values: ['5m', '15m'] });
    expect(parseSweep('allowShort=true,false')).toEqual({ name: 'allowShort', values: [true, false] });
  });

  it('refuses what it cannot read, saying how to write it', () => {
    expect(() => parseSweep('fastPeriod')).toThrow(/name=a\.\.b\[:step\]/);
    expect(() => parseSweep('fastPeriod=20..5')).toThrow(/empty/);
    expect(() => parseSweep('fastPeriod=5..20:0')).toThrow(/step must be positive/);
    expect(() => parseSweep('fastPeriod=5..x')).toThrow(SweepSpecError);
    expect(() => parseSweep('fastPeriod=1..100000')).toThrow(/too many/);
    expect(() => parseSweep('fastPeriod=5,5')).toThrow(/twice/);
    expect(() => sweepGrid([parseSweep('a=1,2'), parseSweep('a=3')])).toThrow(/given twice/);
    expect(() => parseWalkForward('train=250')).toThrow(/test=<sessions>/);
    expect(() => parseWalkForward('train=250,test=0')).toThrow(/whole number/);
    expect(() => parseWalkForward('train=250,test=60,step=3')).toThrow(/unknown part "step"/);
    expect(() => parseObjective('profit')).toThrow(/sharpe, sortino/);
  });

  it('makes the grid with the first axis varying slowest', () => {
    expect(sweepGrid([parseSweep('a=1,2'), parseSweep('b=x,y')])).toEqual([
      { a: 1, b: 'x' },
      { a: 1, b: 'y' },
      { a: 2, b: 'x' },
      { a: 2, b: 'y' },
    ]);
    expect(sweepGrid([])).toEqual([{}]);
  });

  it('ranks by the objective, undefined scores and failures last, ties in grid order', () => {
    const figures = (sharpe: number | null, maxDrawdownPct = 1): RunFigures =>
      ({ sharpe, maxDrawdownPct, sortino: null, cagrPct: null, totalReturnPct: null, netPnlPaise: 0 }) as unknown as RunFigures;
    const rows: SweepRow[] = [
      { index: 0, params: {}, figures: figures(0.5, 3), error: null, output: null },
      { index: 1, params: {}, figures: null, error: 'refused', output: null },
      { index: 2, params: {}, figures: figures(null, 1), error: null, output: null },
      { index: 3, params: {}, figures: figures(1.5, 2), error: null, output: null },
      { index: 4, params: {}, figures: figures(0.5, 2), error: null, output: null },
    ];
    expect(rankRows(rows, 'sharpe').map((row) => row.index)).toEqual([3, 0, 4, 1, 2]);
    expect(rankRows(rows, 'drawdown').map((row) => row.index)).toEqual([2, 3, 4, 0, 1]);
  });

  it('cuts rolling walk-forward windows of sessions', () => {
    const sessions = ['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05', '2024-01-08', '2024-01-09'];
    const windows = walkForwardWindows(sessions, { trainSessions: 3, testSessions: 2 });
    expect(windows.map((w) => [w.trainFrom, w.trainTo, w.testFrom, w.testTo, w.testSessions])).toEqual([
      ['2024-01-01', '2024-01-03', '2024-01-04', '2024-01-05', 2],
      ['2024-01-03', '2024-01-05', '2024-01-08', '2024-01-09', 2],
    ]);
    expect(windows[0]!.testFromMs).toBe(istTimeMs('2024-01-04', 0, 0));
    expect(windows[0]!.trainToMs).toBe(windows[0]!.testFromMs);
    expect(windows[1]!.testToMs).toBe(istTimeMs('2024-01-10', 0, 0));
    expect(() => walkForwardWindows(sessions, { trainSessions: 7, testSessions: 1 })).toThrow(/needs more sessions/);
  });
});

describe('sweeps and walk-forward on nse-daily', () => {
  const options = async (outDir: string): Promise<OptimiseOptions> => ({
    data: await loadCsvData(DAILY, { symbols: ['INFY', 'TCS'], fromMs: istTimeMs('2024-06-01', 0, 0) }),
    dataLabel: DAILY,
    strategyKind: 'ema-cross',
    baseConfig: { source: '1d', quantity: 20 },
    // fastPeriod 30 ≥ slowPeriod 30 is refused by the strategy: reported, not fatal
    axes: [parseSweep('fastPeriod=10..30:20'), parseSweep('slowPeriod=30,50')],
    objective: 'sharpe',
    initialCashPaise: 1_00_00_000_00,
    outDir,
  });

  it('gives the same bytes with one job and with two, and each run equals a lone backtest', async () => {
    const outputs: Record<string, string>[] = [];
    for (const jobs of [1, 2]) {
      const dir = tempDir();
      const opts = await options(dir);
      const runner = createJobRunner(opts.data, jobs);
      try {
        const sweep = await runSweep(opts, runner);
        expect(sweep.runs).toHaveLength(4);
        expect(sweep.runs.filter((run) => run.error !== null).map((run) => run.params)).toEqual([{ fastPeriod: 30, slowPeriod: 30 }]);
        expect(sweep.runs[2]!.error).toMatch(/fastPeriod/);
        expect(sweep.best).not.toBeNull();
        expect(sweep.ranking.at(-1)).toBe(2);
      } finally {
        await runner.close();
      }
      outputs.push(tree(dir));
    }
    expect(Object.keys(outputs[0]!).sort()).toEqual(Object.keys(outputs[1]!).sort());
    expect(Object.keys(outputs[0]!).filter((path) => path.endsWith('result.json'))).toHaveLength(3);
    expect(outputs[1]).toEqual(outputs[0]);

    // a run of the sweep is the backtest of its settings
    const opts = await options(tempDir());
    const lone = await runBacktest({
      dataDir: DAILY,
      data: opts.data,
      strategyKind: 'ema-cross',
      strategyConfig: { source: '1d', quantity: 20, fastPeriod: 10, slowPeriod: 50 },
    });
    expect(outputs[0]!['runs/0001_fastPeriod-10_slowPeriod-50/result.json']).toBe(stableJson(lone));
  }, 120_000); // child processes start slowly on a busy machine

  it('walks forward: best train point per window, tested on the next, stitched, same bytes with one job and two', async () => {
    const reports: string[] = [];
    for (const jobs of [1, 2]) {
      const opts = await options(tempDir());
      const runner = createJobRunner(opts.data, jobs);
      try {
        const report = await runWalkForward(
          { ...opts, axes: [parseSweep('fastPeriod=5,10'), parseSweep('slowPeriod=20')], spec: { trainSessions: 120, testSessions: 100 } },
          runner,
        );
        expect(report.windows.length).toBeGreaterThanOrEqual(2);
        for (const [k, w] of report.windows.entries()) {
          expect(w.trainRuns).toBe(2);
          expect(w.best).not.toBeNull();
          expect(w.window.testFromMs).toBe(w.window.trainToMs);
          // each test window starts with the equity the previous one ended with
          expect(w.startingCashPaise).toBe(k === 0 ? opts.initialCashPaise : report.windows[k - 1]!.test.endEquityPaise);
        }
        const o = report.outOfSample;
        expect(o.metrics.endEquityPaise).toBe(report.windows.at(-1)!.test.endEquityPaise);
        expect(o.metrics.trades).toBe(report.windows.reduce((sum, w) => sum + w.test.trades, 0));
        expect(o.equity.map((day) => day.date)).toEqual([...new Set(o.equity.map((day) => day.date))].sort());
        reports.push(stableJson(report));
      } finally {
        await runner.close();
      }
    }
    expect(reports[1]).toBe(reports[0]);
  }, 120_000);
});

describe('troupe backtest --sweep', () => {
  it('runs the grid from the command line, writes sweep.json, and refuses bad specifications with usage (exit 2)', async () => {
    const dir = tempDir();
    const args = [
      '--data',
      DAILY,
      '--strategy',
      'ema-cross',
      '--symbols',
      'INFY,TCS',
      '--from',
      '2025-01-01',
      '--config',
      '{"source":"1d"}',
      '--quiet',
      '--jobs',
      '1',
    ];
    expect(await backtestCommand([...args, '--sweep', 'fastPeriod=5,10', '--sweep=slowPeriod=20', '--out', dir])).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8')) as SweepReport;
    expect(report.runs.map((run) => run.params)).toEqual([
      { fastPeriod: 5, slowPeriod: 20 },
      { fastPeriod: 10, slowPeriod: 20 },
    ]);
    expect(report.objective).toBe('sharpe');
    expect(await backtestCommand([...args, '--sweep', 'fastPeriod=20..5', '--out', dir])).toBe(2);
    expect(await backtestCommand([...args, '--sweep', 'fastPeriod=5', '--walk-forward', 'train=10', '--out', dir])).toBe(2);
    expect(await backtestCommand([...args, '--sweep', 'fastPeriod=5', '--objective', 'luck', '--out', dir])).toBe(2);
    expect(await backtestCommand([...args, '--jobs', '0', '--sweep', 'fastPeriod=5', '--out', dir])).toBe(2);
    expect(await backtestCommand(['--help'])).toBe(0);
  }, 60_000);
});
