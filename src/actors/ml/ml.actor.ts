import type { ActorContext, Behavior } from '../core/index.js';
import { assertNever, errorMessage } from '../core/index.js';
import type { Bar, Prediction } from '../../model/index.js';
import { FeatureEngine, modelInput } from '../../ml/features.js';
import type { ActiveModel, ModelSource } from '../../ml/model-source.js';
import type { Logger } from '../../observability/logger.js';
import type { MlCommand, MlStats, MlStatus } from './ml.protocol.js';

/** What the ML actor needs. */
export interface MlActorDeps {
  /** Where the model comes from (the registry's live model, or a fixed one). */
  readonly source: ModelSource;
  /** Receives each run's predictions, in bar order (the runtime publishes and delivers them). */
  readonly publish: (predictions: readonly Prediction[]) => void;
  /**
   * Wraps the actor's async work (model loads, ONNX runs) before it is piped back: the runtime
   * counts it as pending work, so a backtest does not step on while a prediction is on its way.
   */
  readonly track?: <T>(work: Promise<T>) => Promise<T>;
  /** Told the rows and duration of every ONNX run, and each load outcome (metrics). */
  readonly observe?: (
    event:
      | { readonly kind: 'run'; readonly rows: number; readonly seconds: number }
      | { readonly kind: 'load'; readonly version: string | null; readonly ok: boolean },
  ) => void;
  readonly log: Logger;
}

/** A model input waiting for, or in, an ONNX run. */
interface PendingRow {
  readonly symbol: string;
  readonly barStartMs: number;
  readonly sample: Float32Array;
}

/** The actor's working state (owned by the actor, updated in place; not snapshotted). */
export interface MlActorState {
  model: ActiveModel | undefined;
  /** Id of the load in flight (a newer request supersedes an older one), else undefined. */
  loading: number | undefined;
  lastError: string | null;
  /** Per symbol: the feature engine and its latest rows (the LSTM's window; one row for the forest). */
  symbols: Map<string, { engine: FeatureEngine; rows: Float32Array[]; ready: boolean; lastStartMs: number }>;
  /** Rows whose bar closed while a run was in flight: the next run takes them all. */
  queue: PendingRow[];
  inFlight: { readonly runId: number; readonly model: ActiveModel; readonly rows: readonly PendingRow[]; readonly startedMs: number } | undefined;
  nextId: number;
  stats: MlStats;
}

/** Feeds a closed bar to its symbol's features; a live bar (`predict`) queues a prediction once the symbol is warm. */
function feed(state: MlActorState, bar: Bar, model: ActiveModel, predict = true): void {
  let entry = state.symbols.get(bar.symbol);
  if (entry === undefined) {
    entry = { engine: new FeatureEngine(bar.symbol), rows: [], ready: false, lastStartMs: -Infinity };
    state.symbols.set(bar.symbol, entry);
  }
  if (!(bar.startMs > entry.lastStartMs)) {
    state.stats.outOfOrderBars += 1;
    return;
  }
  entry.lastStartMs = bar.startMs;
  const row = entry.engine.update(bar);
  if (predict) state.stats.bars += 1;
  else state.stats.warmupBars += 1;
  entry.rows.push(modelInput(row.values, model.schema));
  if (entry.rows.length > model.lookback) entry.rows.shift();
  entry.ready = row.ready && entry.rows.length === model.lookback;
  if (!entry.ready || !predict) return;
  let sample: Float32Array;
  if (model.lookback === 1) sample = entry.rows[0]!;
  else {
    const width = model.schema.names.length;
    sample = new Float32Array(width * model.lookback);
    entry.rows.forEach((r, i) => sample.set(r, i * width));
  }
  state.queue.push({ symbol: bar.symbol, barStartMs: bar.startMs, sample });
}

/** The predictions of a finished run, one per row, in row order. */
function predictionsOf(run: { readonly model: ActiveModel; readonly rows: readonly PendingRow[] }, outputs: readonly Float32Array[]): Prediction[] {
  const { model } = run;
  return run.rows.map((row, i) => ({
    modelVersion: model.version,
    modelKind: model.kind,
    symbol: row.symbol,
    interval: model.interval,
    barStartMs: row.barStartMs,
    horizonBars: model.horizonBars,
    classes: model.classes,
    probabilities: Array.from(outputs[i] ?? []),
  }));
}

/** The actor's status (GetMlStatus). */
function statusOf(state: MlActorState, kind: MlStatus['kind']): MlStatus {
  let warm = 0;
  for (const entry of state.symbols.values()) if (entry.ready) warm += 1;
  return {
    kind,
    modelVersion: state.model?.version ?? null,
    interval: state.model?.interval ?? null,
    lastError: state.lastError,
    loading: state.loading !== undefined,
    symbols: state.symbols.size,
    warmSymbols: warm,
    stats: { ...state.stats },
  };
}

/**
 * An ML model as an actor: per-symbol features from closed bars (the definition training
 * uses, `src/ml/features.ts`), one ONNX run per batch of bar closes across all symbols (runs
 * never overlap: bars that close during a run join the next one), predictions handed on as
 * messages. A model trained on another feature schema is refused at load with a clear error
 * (kept in the status, logged, counted), and the actor keeps running without a model.
 */
export function mlBehavior(deps: MlActorDeps): Behavior<MlCommand, MlActorState> {
  const track = deps.track ?? (<T>(work: Promise<T>) => work);
  const load = (state: MlActorState, ctx: ActorContext<MlCommand>): void => {
    const loadId = state.nextId++;
    state.loading = loadId;
    ctx.pipeToSelf(track(deps.source.loadLive()), (result) => ({ type: 'ModelLoaded', loadId, result }));
  };

  const startRun = (state: MlActorState, ctx: ActorContext<MlCommand>): void => {
    const model = state.model;
    if (state.inFlight !== undefined || model === undefined || state.queue.length === 0) return;
    const rows = state.queue;
    state.queue = [];
    const runId = state.nextId++;
    state.inFlight = { runId, model, rows, startedMs: performance.now() };
    let work: Promise<readonly Float32Array[]>;
    try {
      work = model.predictor.predict(rows.map((row) => row.sample));
    } catch (error) {
      work = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    ctx.pipeToSelf(track(work), (result) => ({ type: 'PredictionsDone', runId, result }));
  };

  return {
    kind: 'ml',
    initial(ctx) {
      const state: MlActorState = {
        model: undefined,
        loading: undefined,
        lastError: null,
        symbols: new Map(),
        queue: [],
        inFlight: undefined,
        nextId: 1,
        stats: { bars: 0, warmupBars: 0, ignoredBars: 0, outOfOrderBars: 0, runs: 0, predictions: 0, largestRun: 0, runFailures: 0, loadFailures: 0, loads: 0 },
      };
      load(state, ctx);
      return state;
    },
    receive(state, message, ctx) {
      switch (message.type) {
        case 'BarsClosed': {
          const model = state.model;
          for (const bar of message.bars) {
            if (model === undefined || bar.interval !== model.interval) state.stats.ignoredBars += 1;
            else feed(state, bar, model);
          }
          startRun(state, ctx);
          return state;
        }
        case 'ReloadModel':
          ctx.log.info({ reason: message.reason }, 'reloading the live model');
          load(state, ctx);
          return state;
        case 'ModelLoaded': {
          if (message.loadId !== state.loading) {
            // superseded by a newer load: free its session
            if (message.result.ok && message.result.value) void message.result.value.predictor.close();
            return state;
          }
          state.loading = undefined;
          if (!message.result.ok) {
            state.stats.loadFailures += 1;
            state.lastError = errorMessage(message.result.error);
            ctx.log.error({ err: message.result.error, kind: deps.source.kind }, `ML model not loaded: ${state.lastError}`);
            deps.observe?.({ kind: 'load', version: null, ok: false });
            return state;
          }
          const next = message.result.value;
          const previous = state.model;
          if (next?.version === previous?.version) {
            if (next) void next.predictor.close();
            return state;
          }
          state.model = next;
          state.lastError = null;
          state.stats.loads += 1;
          // the features carry over when the new model reads the same ones; else warm up again
          if (next === undefined || previous === undefined || next.schema.hash !== previous.schema.hash) {
            state.symbols = new Map();
            state.queue = [];
            // stored bars warm the fresh features up: the first live bar predicts
            if (next?.warmup) for (const bars of next.warmup.values()) for (const bar of bars) feed(state, bar, next, false);
          }
          // a run in flight keeps the old session until it settles
          if (previous && state.inFlight?.model !== previous) void previous.predictor.close();
          deps.observe?.({ kind: 'load', version: next?.version ?? null, ok: true });
          ctx.log.info(
            { kind: deps.source.kind, version: next?.version ?? null, previous: previous?.version ?? null, interval: next?.interval },
            next ? `ML model ${next.version} loaded` : 'no live ML model',
          );
          return state;
        }
        case 'PredictionsDone': {
          const run = state.inFlight;
          if (run === undefined || run.runId !== message.runId) return state;
          state.inFlight = undefined;
          if (run.model !== state.model) void run.model.predictor.close();
          if (!message.result.ok) {
            state.stats.runFailures += 1;
            ctx.log.error({ err: message.result.error, rows: run.rows.length }, `ML inference failed; ${run.rows.length} prediction(s) lost`);
          } else {
            const predictions = predictionsOf(run, message.result.value);
            state.stats.runs += 1;
            state.stats.predictions += predictions.length;
            state.stats.largestRun = Math.max(state.stats.largestRun, predictions.length);
            deps.observe?.({ kind: 'run', rows: predictions.length, seconds: (performance.now() - run.startedMs) / 1000 });
            deps.publish(predictions);
          }
          startRun(state, ctx);
          return state;
        }
        case 'GetMlStatus':
          ctx.system.tell(message.replyTo, statusOf(state, deps.source.kind));
          return state;
        default:
          return assertNever(message, 'ml command');
      }
    },
    onStop(state) {
      void state.model?.predictor.close();
    },
  };
}
