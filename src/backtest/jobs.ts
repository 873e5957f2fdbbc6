/**
 * One backtest of a sweep or walk-forward, as plain data, and how to run it. The same
 * `executeJob` runs in the parent (`--jobs 1`) and in the pool's child processes, so the
 * number of jobs never changes a result.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Paise } from '../model/index.js';
import { runBacktest, type BacktestData, type BacktestResult } from './backtest.js';
import { renderReport } from './report.js';
import { stableJson } from './stable-json.js';
import { runFigures, type RunFigures } from './sweep.js';

/** A backtest to run on the data the runner holds. */
export interface BacktestJob {
  /** Position in the caller's list; outcomes come back keyed by it. */
  readonly id: number;
  /** Recorded as `meta.dataDir` (the CSV folder, or `db:bars_1m`…). */
  readonly dataLabel: string;
  readonly strategyKind: string;
  readonly config: Record<string, unknown>;
  readonly fromMs?: number;
  readonly toMs?: number;
  readonly initialCashPaise: Paise;
  /** Write result.json and report.html into this folder. */
  readonly outDir?: string;
  /** Send the whole result back (walk-forward test windows); otherwise only the figures. */
  readonly wantResult: boolean;
}

export type JobOutcome =
  | { readonly id: number; readonly ok: true; readonly figures: RunFigures; readonly result?: BacktestResult }
  | { readonly id: number; readonly ok: false; readonly error: string };

/** Runs a job; a refused configuration or any other error becomes an `ok: false` outcome. */
export async function executeJob(data: BacktestData, job: BacktestJob): Promise<JobOutcome> {
  try {
    const result = await runBacktest({
      dataDir: job.dataLabel,
      data,
      strategyKind: job.strategyKind,
      strategyConfig: job.config,
      initialCashPaise: job.initialCashPaise,
      ...(job.fromMs === undefined ? {} : { fromMs: job.fromMs }),
      ...(job.toMs === undefined ? {} : { toMs: job.toMs }),
    });
    if (job.outDir !== undefined) {
      mkdirSync(job.outDir, { recursive: true });
      writeFileSync(join(job.outDir, 'result.json'), stableJson(result));
      writeFileSync(join(job.outDir, 'report.html'), renderReport(result));
    }
    return { id: job.id, ok: true, figures: runFigures(result), ...(job.wantResult ? { result } : {}) };
  } catch (error) {
    return { id: job.id, ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
