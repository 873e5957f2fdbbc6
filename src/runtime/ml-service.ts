/**
 * The ML service around the actor tree: it starts the ML actor (`/ml/<kind>`) when a model is
 * live (or at once with `TROUPE_ML=on`), checks the registry for promotions and rollbacks made
 * elsewhere (`troupe ml promote`, another process) and tells the actor to reload, runs the
 * scheduled retraining in a child process, and serves the Models page's API (list, promote,
 * rollback, status, retrain now). Metrics: `troupe_ml_*`.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { MlConfig } from '../config/ml.js';
import type { MlStatus } from '../actors/ml/ml.protocol.js';
import { registryModelSource, type ModelSource } from '../ml/model-source.js';
import { nextRetrainMs } from '../ml/retrain/schedule.js';
import { storedWarmupBars } from '../ml/warmup.js';
import { retrain, type RetrainOutcome, type RetrainProgress, type RetrainSettings } from '../ml/retrain/retrainer.js';
import type { Database } from '../persistence/database.js';
import { MlModelStore } from '../persistence/ml-model-store.js';
import { readBars } from '../persistence/timeseries/bars.js';
import type { ModelSummary } from '../ml/registry.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Runtime } from './runtime.js';

/** The retraining as the API shows it. */
export interface RetrainingStatus {
  readonly schedule: string;
  readonly nextRunAtMs: number | null;
  readonly running: boolean;
  readonly progress: RetrainProgress | null;
  readonly startedAtMs: number | null;
  readonly lastOutcome:
    | (Omit<RetrainOutcome, 'candidate' | 'live'> & {
        readonly finishedAtMs: number;
        readonly candidateAccuracy: number;
        readonly candidateBrier: number;
        readonly liveAccuracy: number | null;
        readonly liveBrier: number | null;
      })
    | null;
  readonly lastError: string | null;
}

export interface MlServiceStatus {
  readonly mode: MlConfig['mode'];
  readonly kind: MlConfig['kind'];
  /** The ML actor's status; null when it does not run. */
  readonly actor: MlStatus | null;
  readonly retraining: RetrainingStatus;
}

/**
 * What the gateway's ML routes ask of the ML service: here ({@link MlService}), or across the
 * gateway worker's port (`src/runtime/port/`).
 */
export interface MlControl {
  /** The registry, newest first. */
  list(): Promise<readonly ModelSummary[]>;
  /** One model without its bytes; rejects with UnknownModelError when the registry has no such version. */
  summary(version: string): Promise<ModelSummary>;
  /** Promotes a model and has the actor load it now. */
  promote(version: string): Promise<{ readonly promoted: ModelSummary; readonly retired: string | null }>;
  /** Rolls the kind back and has the actor load the restored model now. */
  rollback(): Promise<{ readonly restored: ModelSummary; readonly retired: string }>;
  status(): Promise<MlServiceStatus>;
  /** Starts a retraining (refused while one runs); resolves once started: its progress, outcome or error are in {@link status}. */
  startRetraining(): Promise<void>;
}

export interface MlServiceOptions {
  readonly config: MlConfig;
  readonly database: Database;
  readonly runtime: Runtime;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Symbols to retrain on (the instruments traded). */
  readonly symbols: readonly string[];
  /** Wall clock (default Date.now): schedules and the retraining window. */
  readonly nowMs?: () => number;
  /** Override of the retraining settings (tests). */
  readonly retrainSettings?: RetrainSettings;
  /** Override of the model source (tests). */
  readonly source?: ModelSource;
}

function describeSchedule(schedule: MlConfig['retrain']['schedule']): string {
  const hhmm = (minute: number): string => `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
  switch (schedule.kind) {
    case 'off':
      return 'off';
    case 'daily':
      return `daily ${hhmm(schedule.minuteOfDay)} IST`;
    case 'weekly':
      return `weekly ${['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][schedule.weekday]} ${hhmm(schedule.minuteOfDay)} IST`;
  }
}

export class MlService implements MlControl {
  readonly store: MlModelStore;
  private readonly source: ModelSource;
  private readonly now: () => number;
  private checkTimer: ReturnType<typeof setInterval> | undefined;
  private retrainTimer: ReturnType<typeof setTimeout> | undefined;
  private lastSeenVersion: string | undefined;
  private checking: Promise<void> | undefined;
  private running: Promise<RetrainOutcome> | undefined;
  private progress: RetrainProgress | null = null;
  private startedAtMs: number | null = null;
  private lastOutcome: RetrainingStatus['lastOutcome'] = null;
  private lastError: string | null = null;
  private nextRunAtMs: number | undefined;
  private stopped = false;
  private readonly gauges: {
    readonly progress: Gauge;
    readonly running: Gauge;
    readonly runs: Counter<'outcome'>;
    readonly predictions: Counter;
    readonly inference: Histogram;
    readonly loaded: Gauge<'kind'>;
    readonly loadFailures: Counter;
  };

  constructor(private readonly options: MlServiceOptions) {
    this.store = new MlModelStore(options.database);
    // the actor's features warm up on the stored bars (market clock): the first live bar predicts
    this.source =
      options.source ??
      registryModelSource(this.store, options.config.kind, {
        warmup: (interval, bars) =>
          storedWarmupBars({
            minuteBars: (symbol, fromMs, toMs) => readBars(options.database, '1m', symbol, fromMs, toMs),
            symbols: options.symbols,
            interval,
            bars,
            nowMs: options.runtime.marketNowMs(),
          }),
        onWarmupError: (error) => options.log.warn({ err: error }, 'ML warm-up from the stored bars failed; the features warm up on live bars'),
      });
    this.now = options.nowMs ?? Date.now;
    const registers = [options.metrics.registry];
    this.gauges = {
      progress: new Gauge({ name: 'troupe_ml_retrain_progress', help: 'Progress of the running retraining, 0 to 1 (0 when none runs)', registers }),
      running: new Gauge({ name: 'troupe_ml_retrain_running', help: '1 while a retraining runs (in a child process)', registers }),
      runs: new Counter({
        name: 'troupe_ml_retrain_runs_total',
        help: 'Retrainings by outcome: promoted, kept (not better than the live model) or failed',
        labelNames: ['outcome'],
        registers,
      }),
      predictions: new Counter({ name: 'troupe_ml_predictions_total', help: 'Predictions made by the ML actor', registers }),
      inference: new Histogram({
        name: 'troupe_ml_inference_seconds',
        help: 'Duration of one ONNX run (all symbols whose bar closed)',
        buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.25],
        registers,
      }),
      loaded: new Gauge({ name: 'troupe_ml_model_loaded', help: '1 while the ML actor has a live model loaded', labelNames: ['kind'], registers }),
      loadFailures: new Counter({
        name: 'troupe_ml_model_load_failures_total',
        help: 'Models refused or failed at load (a feature-schema mismatch, a corrupt model)',
        registers,
      }),
    };
  }

  /** Starts the actor when it should run, the registry check and the retraining schedule. */
  async start(): Promise<void> {
    const { config } = this.options;
    if (config.mode === 'off') return;
    if (config.mode === 'on') this.startActor();
    await this.checkNow();
    this.checkTimer = setInterval(() => void this.checkNow(), config.checkEveryMs);
    this.checkTimer.unref();
    this.scheduleRetrain();
  }

  private startActor(): void {
    const { runtime } = this.options;
    if (runtime.ml) return;
    runtime.startMl({
      source: this.source,
      observe: (event) => {
        if (event.kind === 'run') {
          this.gauges.inference.observe(event.seconds);
          this.gauges.predictions.inc(event.rows);
        } else if (event.ok) this.gauges.loaded.set({ kind: this.source.kind }, event.version === null ? 0 : 1);
        else this.gauges.loadFailures.inc();
      },
    });
  }

  /** Checks the registry's live version: starts the actor on the first live model, reloads it on a change. */
  checkNow(): Promise<void> {
    this.checking ??= (async () => {
      try {
        const version = await this.source.liveVersion();
        const changed = version !== this.lastSeenVersion;
        const first = this.lastSeenVersion === undefined && !this.options.runtime.ml;
        this.lastSeenVersion = version;
        if (version !== undefined && !this.options.runtime.ml) {
          this.options.log.info({ version }, 'a live ML model: starting the ML actor');
          this.startActor();
        } else if (changed && !first) this.options.runtime.reloadMl(`the registry's live ${this.source.kind} model is now ${version ?? 'none'}`);
      } catch (error) {
        this.options.log.warn({ err: error }, 'ML registry check failed; trying again on the next check');
      } finally {
        this.checking = undefined;
      }
    })();
    return this.checking;
  }

  private scheduleRetrain(): void {
    if (this.stopped) return;
    const at = nextRetrainMs(this.options.config.retrain.schedule, this.now());
    this.nextRunAtMs = at;
    if (at === undefined) return;
    // timers cannot wait longer than ~24.8 days; a week fits
    this.retrainTimer = setTimeout(
      () => {
        this.retrainNow().catch(() => undefined);
        this.scheduleRetrain();
      },
      Math.max(0, at - this.now()),
    );
    this.retrainTimer.unref();
  }

  /** Starts a retraining now (refused while one runs); resolves with its outcome. */
  retrainNow(): Promise<RetrainOutcome> {
    if (this.running) return Promise.reject(new Error('a retraining is already running'));
    const { config, log } = this.options;
    const settings: RetrainSettings = this.options.retrainSettings ?? {
      kind: config.kind,
      interval: config.retrain.interval,
      windowDays: config.retrain.windowDays,
      testDays: config.retrain.testDays,
      trees: config.retrain.trees,
      maxRows: config.retrain.maxRows,
    };
    this.startedAtMs = this.now();
    this.lastError = null;
    this.gauges.running.set(1);
    this.gauges.progress.set(0);
    const run = retrain({
      minuteBars: (symbol, fromMs, toMs) => readBars(this.options.database, '1m', symbol, fromMs, toMs),
      store: this.store,
      symbols: this.options.symbols,
      settings,
      nowMs: this.now(),
      onProgress: (progress) => {
        this.progress = progress;
        this.gauges.progress.set(progress.fraction);
        log.info({ phase: progress.phase, fraction: progress.fraction }, `ML retraining: ${progress.message}`);
      },
    });
    this.running = run;
    run
      .then(
        (outcome) => {
          this.gauges.runs.inc({ outcome: outcome.promoted ? 'promoted' : 'kept' });
          const { candidate, live, ...rest } = outcome;
          this.lastOutcome = {
            ...rest,
            finishedAtMs: this.now(),
            candidateAccuracy: candidate.accuracy,
            candidateBrier: candidate.brier,
            liveAccuracy: live?.accuracy ?? null,
            liveBrier: live?.brier ?? null,
          };
          if (outcome.promoted) void this.checkNow();
        },
        (error: unknown) => {
          this.gauges.runs.inc({ outcome: 'failed' });
          this.lastError = error instanceof Error ? error.message : String(error);
          this.progress = { phase: 'failed', fraction: 1, message: this.lastError };
          log.error({ err: error }, `ML retraining failed: ${this.lastError}`);
        },
      )
      .finally(() => {
        this.running = undefined;
        this.gauges.running.set(0);
        this.gauges.progress.set(0);
      });
    return run;
  }

  startRetraining(): Promise<void> {
    if (this.running) return Promise.reject(new Error('a retraining is already running'));
    this.retrainNow().catch(() => undefined); // its outcome or error is in the status
    return Promise.resolve();
  }

  /** The registry, newest first. */
  list(): Promise<ModelSummary[]> {
    return this.store.list();
  }

  /** One model without its bytes; throws UnknownModelError when the registry has no such version. */
  summary(version: string): Promise<ModelSummary> {
    return this.store.summary(version);
  }

  /** Promotes a model and has the actor load it now. */
  async promote(version: string): Promise<{ readonly promoted: ModelSummary; readonly retired: string | null }> {
    const result = await this.store.promote(version);
    await this.checkNow();
    return result;
  }

  /** Rolls the kind back and has the actor load the restored model now. */
  async rollback(): Promise<{ readonly restored: ModelSummary; readonly retired: string }> {
    const result = await this.store.rollback(this.source.kind);
    await this.checkNow();
    return result;
  }

  async status(): Promise<MlServiceStatus> {
    const { config, runtime } = this.options;
    return {
      mode: config.mode,
      kind: config.kind,
      actor: (await runtime.mlStatus()) ?? null,
      retraining: {
        schedule: describeSchedule(config.retrain.schedule),
        nextRunAtMs: this.nextRunAtMs ?? null,
        running: this.running !== undefined,
        progress: this.progress,
        startedAtMs: this.startedAtMs,
        lastOutcome: this.lastOutcome,
        lastError: this.lastError,
      },
    };
  }

  /** Stops the timers (a running retraining's child exits with the process: it is told by the IPC disconnect; nothing is registered). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.checkTimer) clearInterval(this.checkTimer);
    if (this.retrainTimer) clearTimeout(this.retrainTimer);
    await this.checking;
  }
}
