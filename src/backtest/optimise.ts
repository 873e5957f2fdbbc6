/**
 * Runs a parameter sweep or a walk-forward optimisation on a {@link JobRunner} and gathers
 * the outcome in grid order (see sweep.ts for the definitions).
 */
import { join } from 'node:path';
import type { Paise } from '../model/index.js';
import type { BacktestData, BacktestResult } from './backtest.js';
import type { BacktestJob, JobOutcome } from './jobs.js';
import type { JobRunner } from './pool.js';
import {
  pointLabel,
  rankRows,
  score,
  sessionsOf,
  stitch,
  sweepGrid,
  walkForwardWindows,
  type Objective,
  type RunFigures,
  type StitchedResult,
  type SweepAxis,
  type SweepPoint,
  type SweepRow,
  type WalkForwardSpec,
  type WalkForwardWindow,
} from './sweep.js';

export interface OptimiseOptions {
  readonly data: BacktestData;
  /** Recorded in every result (`meta.dataDir`). */
  readonly dataLabel: string;
  readonly strategyKind: string;
  /** Settings every run shares; the swept parameters go over them. */
  readonly baseConfig: Record<string, unknown>;
  readonly axes: readonly SweepAxis[];
  readonly objective: Objective;
  readonly initialCashPaise: Paise;
  readonly fromMs?: number;
  readonly toMs?: number;
  /** Write each run's result.json and report.html under this folder. */
  readonly outDir?: string;
  /** Progress lines (the CLI writes them to stderr). */
  readonly onProgress?: (line: string) => void;
}

/** What `--sweep` writes to sweep.json. */
export interface SweepReport {
  readonly kind: 'sweep';
  readonly strategy: string;
  readonly data: string;
  readonly objective: Objective;
  readonly axes: readonly SweepAxis[];
  readonly baseConfig: Record<string, unknown>;
  readonly initialCashPaise: Paise;
  readonly fromMs: number | null;
  readonly toMs: number | null;
  /** Every grid point, in grid order. */
  readonly runs: readonly SweepRow[];
  /** Grid indices, best first by the objective (failed runs last). */
  readonly ranking: readonly number[];
  readonly best: { readonly index: number; readonly params: SweepPoint; readonly score: number | null } | null;
}

/** What a sweep or a walk-forward optimised: the strategy, the data, the objective, the grid and the settings under it. */
export type OptimiseSubject = Pick<SweepReport, 'strategy' | 'data' | 'objective' | 'axes' | 'baseConfig'>;

/** The {@link OptimiseSubject} of a run's options, as the reports write it (in this key order). */
function subjectOf(options: OptimiseOptions): OptimiseSubject {
  return { strategy: options.strategyKind, data: options.dataLabel, objective: options.objective, axes: options.axes, baseConfig: options.baseConfig };
}

function slug(index: number, point: SweepPoint): string {
  const parts = Object.entries(point).map(([name, value]) => `${name}-${String(value).replace(/[^A-Za-z0-9.+-]/g, '_')}`);
  return [String(index).padStart(4, '0'), ...parts].join('_');
}

function rowsOf(points: readonly SweepPoint[], outcomes: readonly JobOutcome[], outputs: readonly (string | null)[]): SweepRow[] {
  return points.map((params, index) => {
    const outcome = outcomes[index]!;
    return outcome.ok
      ? { index, params, figures: outcome.figures, error: null, output: outputs[index] ?? null }
      : { index, params, figures: null, error: outcome.error, output: null };
  });
}

function describe(objective: Objective, figures: RunFigures | null): string {
  if (figures === null) return 'failed';
  const value = score(objective, figures);
  return `${objective} ${value === null ? '–' : objective === 'pnl' ? `${value / 100} ₹` : value.toFixed(3)}`;
}

/** Runs every grid point once over the whole selection. */
export async function runSweep(options: OptimiseOptions, runner: JobRunner): Promise<SweepReport> {
  const points = sweepGrid(options.axes);
  const outputs = points.map((point, index) => (options.outDir === undefined ? null : join('runs', slug(index, point))));
  const jobs: BacktestJob[] = points.map((point, index) => ({
    id: index,
    dataLabel: options.dataLabel,
    strategyKind: options.strategyKind,
    config: { ...options.baseConfig, ...point },
    initialCashPaise: options.initialCashPaise,
    ...(options.fromMs === undefined ? {} : { fromMs: options.fromMs }),
    ...(options.toMs === undefined ? {} : { toMs: options.toMs }),
    ...(options.outDir === undefined ? {} : { outDir: join(options.outDir, outputs[index]!) }),
    wantResult: false,
  }));
  let done = 0;
  options.onProgress?.(`sweep: ${points.length} runs of ${options.strategyKind}`);
  const outcomes = await runner.run(jobs, (outcome) => {
    done += 1;
    const point = points[outcome.id]!;
    options.onProgress?.(
      `sweep: ${done}/${points.length} done; ${pointLabel(point) || '(base settings)'}: ${outcome.ok ? describe(options.objective, outcome.figures) : `failed: ${outcome.error}`}`,
    );
  });
  const runs = rowsOf(points, outcomes, outputs);
  const ranked = rankRows(runs, options.objective);
  const top = ranked[0];
  return {
    kind: 'sweep',
    ...subjectOf(options),
    initialCashPaise: options.initialCashPaise,
    fromMs: options.fromMs ?? null,
    toMs: options.toMs ?? null,
    runs,
    ranking: ranked.map((row) => row.index),
    best: top?.figures ? { index: top.index, params: top.params, score: score(options.objective, top.figures) } : null,
  };
}

/** One window of a walk-forward. */
export interface WalkForwardWindowReport {
  readonly window: WalkForwardWindow;
  /** The train run chosen (grid index and parameters), null when every train run failed. */
  readonly best: { readonly index: number; readonly params: SweepPoint; readonly score: number | null; readonly train: RunFigures } | null;
  readonly trainRuns: number;
  readonly failedTrainRuns: number;
  readonly startingCashPaise: Paise;
  /** The test run with the chosen parameters. */
  readonly test: RunFigures;
  /** Folder of the test run's result.json and report.html, relative to the output folder. */
  readonly output: string | null;
}

/** What `--walk-forward` writes to walk-forward.json. */
export interface WalkForwardReport extends OptimiseSubject {
  readonly kind: 'walk-forward';
  /** Window lengths in sessions (IST trading days with data). */
  readonly trainSessions: number;
  readonly testSessions: number;
  readonly initialCashPaise: Paise;
  readonly windows: readonly WalkForwardWindowReport[];
  /** The test windows one after the other (each starts flat, with the equity the previous one ended with). */
  readonly outOfSample: StitchedResult;
}

/**
 * Walk-forward: the grid on every train window (all windows' train runs in parallel), the
 * best point of each on its test window (one after the other: each starts with the equity
 * the previous test window ended with, flat: open positions are valued at their last mark).
 */
export async function runWalkForward(options: OptimiseOptions & { readonly spec: WalkForwardSpec }, runner: JobRunner): Promise<WalkForwardReport> {
  const points = sweepGrid(options.axes);
  const fromMs = options.fromMs ?? Number.NEGATIVE_INFINITY;
  const toMs = options.toMs ?? Number.POSITIVE_INFINITY;
  const inRange = [...options.data.bars.values()].map((bars) => bars.filter((bar) => bar.startMs >= fromMs && bar.startMs < toMs));
  const windows = walkForwardWindows(sessionsOf(inRange), options.spec);
  const trainJobs: BacktestJob[] = windows.flatMap((window) =>
    points.map((point, index) => ({
      id: window.index * points.length + index,
      dataLabel: options.dataLabel,
      strategyKind: options.strategyKind,
      config: { ...options.baseConfig, ...point },
      initialCashPaise: options.initialCashPaise,
      fromMs: window.trainFromMs,
      toMs: window.trainToMs,
      wantResult: false,
    })),
  );
  options.onProgress?.(
    `walk-forward: ${windows.length} windows (train ${options.spec.trainSessions} sessions, test ${options.spec.testSessions}), ${trainJobs.length} train runs`,
  );
  let done = 0;
  const trainOutcomes = await runner.run(trainJobs, () => {
    done += 1;
    if (done % Math.max(1, Math.floor(trainJobs.length / 20)) === 0 || done === trainJobs.length)
      options.onProgress?.(`walk-forward: train runs ${done}/${trainJobs.length}`);
  });

  const reports: WalkForwardWindowReport[] = [];
  const tests: BacktestResult[] = [];
  let cashPaise = options.initialCashPaise;
  for (const window of windows) {
    const outcomes = trainOutcomes.slice(window.index * points.length, (window.index + 1) * points.length);
    const rows = rowsOf(points, outcomes, []);
    const top = rankRows(rows, options.objective)[0];
    if (top?.figures === null || top === undefined) {
      throw new Error(
        `walk-forward window ${window.index + 1} (train ${window.trainFrom}..${window.trainTo}): every run failed; first error: ${rows[0]?.error ?? 'none'}`,
      );
    }
    const output = options.outDir === undefined ? null : join('windows', `${String(window.index + 1).padStart(3, '0')}_${window.testFrom}_${window.testTo}`);
    const [outcome] = await runner.run([
      {
        id: 0,
        dataLabel: options.dataLabel,
        strategyKind: options.strategyKind,
        config: { ...options.baseConfig, ...top.params },
        initialCashPaise: cashPaise,
        fromMs: window.testFromMs,
        toMs: window.testToMs,
        ...(options.outDir === undefined || output === null ? {} : { outDir: join(options.outDir, output) }),
        wantResult: true,
      },
    ]);
    if (!outcome?.ok || outcome.result === undefined)
      throw new Error(
        `walk-forward window ${window.index + 1} (test ${window.testFrom}..${window.testTo}) failed: ${outcome && !outcome.ok ? outcome.error : 'no result'}`,
      );
    tests.push(outcome.result);
    reports.push({
      window,
      best: { index: top.index, params: top.params, score: score(options.objective, top.figures), train: top.figures },
      trainRuns: rows.length,
      failedTrainRuns: rows.filter((row) => row.figures === null).length,
      startingCashPaise: cashPaise,
      test: outcome.figures,
      output,
    });
    options.onProgress?.(
      `walk-forward: window ${window.index + 1}/${windows.length} test ${window.testFrom}..${window.testTo} with ${pointLabel(top.params) || '(base settings)'}: ${describe(options.objective, outcome.figures)}`,
    );
    cashPaise = outcome.result.summary.equityPaise;
  }
  return {
    kind: 'walk-forward',
    ...subjectOf(options),
    trainSessions: options.spec.trainSessions,
    testSessions: options.spec.testSessions,
    initialCashPaise: options.initialCashPaise,
    windows: reports,
    outOfSample: stitch(options.initialCashPaise, tests),
  };
}
