/**
 * Retraining, the trading process's side: read the stored 1-minute bars (`bars_1m`) of a
 * walk-forward window, build the model's interval, hand the job to a child process
 * (`retrain-child.ts`: training never runs on the trading thread), relay its progress, register
 * the candidate and promote it when the shadow evaluation says it is better than the live model
 * on the same held-out rows (`retrain-job.ts`).
 */
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DAY_MS, istDayStartMs, type Bar, type BarInterval } from '../../model/index.js';
import type { EvaluationMetrics } from '../evaluate.js';
import { WARMUP_BARS } from '../features.js';
import { DEFAULT_FOREST_OPTIONS, type ForestOptions } from '../forest/forest-options.js';
import type { LabelOptions } from '../labels.js';
import { DEFAULT_LSTM_TRAINING, type LstmTrainingOptions } from '../lstm/training-options.js';
import type { ModelKind } from '../model.js';
import type { ModelRegistry } from '../registry.js';
import { resampleBars, type MinuteBarReader } from './resample.js';
import type { RetrainJob, RetrainResult } from './retrain-job.js';

/** How a retraining trains (from `src/config/ml.ts`, or a test's). */
export interface RetrainSettings {
  /** The kind to retrain (default random-forest); the live model of this kind is the one to beat. */
  readonly kind?: ModelKind;
  readonly interval: BarInterval;
  /** Calendar days of stored bars to read, ending now. */
  readonly windowDays: number;
  /** The last calendar days of the window are held out. */
  readonly testDays: number;
  readonly trees: number;
  readonly maxRows: number;
  /** Other forest options (depth, features…); default the CLI's. */
  readonly forest?: Partial<ForestOptions>;
  /** The LSTM's options (window, units, epochs…; `maxRows` caps its training windows); default {@link DEFAULT_LSTM_TRAINING}. */
  readonly lstm?: Partial<Omit<LstmTrainingOptions, 'maxTrainingRows'>>;
}

/** A step of a running retraining (logs, metrics, the Models page). */
export interface RetrainProgress {
  readonly phase: 'reading' | 'training' | 'shadow' | 'registering' | 'done' | 'failed';
  /** 0…1, roughly. */
  readonly fraction: number;
  readonly message: string;
}

export interface RetrainRequest {
  readonly minuteBars: MinuteBarReader;
  readonly store: ModelRegistry;
  readonly symbols: readonly string[];
  readonly settings: RetrainSettings;
  readonly nowMs: number;
  readonly onProgress?: (progress: RetrainProgress) => void;
}

export interface RetrainOutcome {
  readonly version: string;
  readonly promoted: boolean;
  readonly reason: string;
  readonly liveVersion: string | null;
  readonly candidate: EvaluationMetrics;
  readonly live: EvaluationMetrics | undefined;
  readonly trainSamples: number;
  readonly testSamples: number;
  readonly durationMs: number;
  /** The child process that trained (never this process). */
  readonly childPid: number | undefined;
}

/** Not enough stored bars, or the child failed: a clear message, nothing registered. */
export class RetrainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RetrainError';
  }
}

function childLaunch(): { readonly path: string; readonly execArgv: string[] } {
  const url = new URL(import.meta.url.endsWith('.ts') ? './retrain-child.ts' : './retrain-child.js', import.meta.url);
  if (!url.pathname.endsWith('.ts')) return { path: fileURLToPath(url), execArgv: [] };
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return { path: fileURLToPath(url), execArgv: ['--import', tsx] };
}

/** Runs `job` in a child process; resolves with its result. */
export function runInChild(
  job: RetrainJob,
  onProgress: (progress: RetrainProgress) => void,
): Promise<RetrainResult & { readonly childPid: number | undefined }> {
  const launch = childLaunch();
  return new Promise((resolve, reject) => {
    const child = fork(launch.path, [], { execArgv: launch.execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let settled = false;
    child.on(
      'message',
      (
        message:
          | { type: 'progress'; phase: RetrainProgress['phase']; fraction: number; message: string }
          | { type: 'result'; result: RetrainResult }
          | { type: 'error'; message: string },
      ) => {
        if (message.type === 'progress') onProgress({ phase: message.phase, fraction: message.fraction, message: message.message });
        else if (message.type === 'result') {
          settled = true;
          resolve({ ...message.result, childPid: child.pid });
        } else {
          settled = true;
          reject(new RetrainError(`retraining failed in the child process: ${message.message}`));
        }
      },
    );
    child.on('error', (error) => {
      if (!settled) reject(new RetrainError(`retraining child process: ${error.message}`));
      settled = true;
    });
    child.on('exit', (code, signal) => {
      if (!settled) reject(new RetrainError(`retraining child process exited (${signal ?? `code ${code}`}) without a result`));
      settled = true;
    });
    child.send({ type: 'job', job });
  });
}

/** The label options a live model was trained with, when it records them. */
function labelsOf(metrics: Readonly<Record<string, unknown>> | undefined): LabelOptions | undefined {
  const labels = metrics?.labels as Partial<LabelOptions> | undefined;
  if (
    typeof labels?.horizon !== 'number' ||
    typeof labels.threshold !== 'number' ||
    (labels.mode !== 'ternary' && labels.mode !== 'binary') ||
    typeof labels.sameSession !== 'boolean'
  )
    return undefined;
  return { horizon: labels.horizon, threshold: labels.threshold, mode: labels.mode, sameSession: labels.sameSession };
}

/** One retraining: read, train in a child, shadow-evaluate, register, promote when better. */
export async function retrain(request: RetrainRequest): Promise<RetrainOutcome> {
  const startedMs = Date.now();
  const say = request.onProgress ?? (() => undefined);
  const { settings, nowMs } = request;
  const fromMs = nowMs - settings.windowDays * DAY_MS;
  const testFromMs = istDayStartMs(nowMs - settings.testDays * DAY_MS);
  say({ phase: 'reading', fraction: 0, message: `reading 1-minute bars of ${request.symbols.length} symbol(s) from ${new Date(fromMs).toISOString()}` });
  const series = new Map<string, Bar[]>();
  const skipped: string[] = [];
  for (const symbol of request.symbols) {
    const bars = resampleBars(await request.minuteBars(symbol, fromMs, nowMs), settings.interval);
    if (bars.length > WARMUP_BARS + 20) series.set(symbol, bars);
    else skipped.push(`${symbol} (${bars.length} bars)`);
  }
  if (series.size === 0)
    throw new RetrainError(
      `not enough stored bars to retrain: every symbol has at most ${WARMUP_BARS + 20} ${settings.interval} bars in the last ${settings.windowDays} days (${skipped.slice(0, 5).join(', ')})`,
    );
  if (skipped.length > 0) say({ phase: 'reading', fraction: 0.05, message: `left out for too few bars: ${skipped.join(', ')}` });
  const kind = settings.kind ?? 'random-forest';
  const stored = await request.store.live(kind);
  const labels = labelsOf(stored?.metrics) ?? { horizon: 6, threshold: 0.001, mode: 'ternary', sameSession: settings.interval !== '1d' };
  const job: RetrainJob = {
    kind,
    series,
    interval: settings.interval,
    labels,
    forest: { ...DEFAULT_FOREST_OPTIONS, ...settings.forest, trees: settings.trees, maxTrainingRows: settings.maxRows },
    lstm: { ...DEFAULT_LSTM_TRAINING, ...settings.lstm, maxTrainingRows: settings.maxRows },
    testFromMs,
    nowMs,
    live:
      stored === undefined
        ? undefined
        : {
            version: stored.version,
            featureSchemaHash: stored.featureSchemaHash,
            lookback: stored.featureSchema.lookback,
            classes: stored.classes,
            onnx: stored.onnx,
          },
  };
  const result = await runInChild(job, say);
  say({ phase: 'registering', fraction: 0.97, message: `registering ${result.model.version}` });
  await request.store.register({
    ...result.model,
    metrics: {
      ...result.model.metrics,
      retraining: {
        decision: result.decision.reason,
        liveVersion: stored?.version ?? null,
        liveBrier: result.decision.live?.brier ?? null,
        liveAccuracy: result.decision.live?.accuracy ?? null,
      },
    },
  });
  if (result.decision.promote) await request.store.promote(result.model.version);
  say({ phase: 'done', fraction: 1, message: `${result.model.version}: ${result.decision.reason}${result.decision.promote ? ' → promoted' : ''}` });
  return {
    version: result.model.version,
    promoted: result.decision.promote,
    reason: result.decision.reason,
    liveVersion: stored?.version ?? null,
    candidate: result.candidate,
    live: result.decision.live,
    trainSamples: result.trainSamples,
    testSamples: result.testSamples,
    durationMs: Date.now() - startedMs,
    childPid: result.childPid,
  };
}
