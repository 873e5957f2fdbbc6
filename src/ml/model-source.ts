/**
 * Where the ML actor gets its model: the registry's live model of a kind (live trading), or
 * a fixed model (backtests, benchmarks). Loading checks the feature schema against the
 * running definition (a mismatch throws {@link FeatureSchemaMismatchError}) and opens an
 * onnxruntime-node session.
 */
import { BAR_INTERVALS, type Bar, type BarInterval } from '../model/market.js';
import { mlFeatureSchema } from './features.js';
import { warmupBarsFor } from './warmup.js';
import type { ClassName, FeatureSchema, ModelKind, OnnxPredictor, TrainedModel } from './model.js';
import { loadModel, type ModelRegistry, type StoredModel } from './registry.js';

/** A model ready to predict: what it reads, what it answers, and its session. */
export interface ActiveModel {
  readonly version: string;
  readonly kind: ModelKind;
  readonly classes: readonly ClassName[];
  /** The running feature definition the model was checked against. */
  readonly schema: FeatureSchema;
  readonly interval: BarInterval;
  /** Bars per sample (1 for the forest). */
  readonly lookback: number;
  /** The label horizon it was trained on (bars ahead). */
  readonly horizonBars: number;
  readonly predictor: OnnxPredictor;
  /**
   * Closed bars of `interval` per symbol to feed the features before the first live bar (from
   * the store: `src/ml/warmup.ts`); used when the actor starts its features afresh.
   */
  readonly warmup?: ReadonlyMap<string, readonly Bar[]>;
}

/** Reads the latest `bars` closed bars of `interval` per symbol (the warm-up). */
export type WarmupReader = (interval: BarInterval, bars: number) => Promise<ReadonlyMap<string, readonly Bar[]>>;

/** A source of the model to run. */
export interface ModelSource {
  readonly kind: ModelKind;
  /** The live model's version without loading it (cheap), or undefined when none is live. */
  liveVersion(): Promise<string | undefined>;
  /**
   * Loads the live model: undefined when none is live; throws `FeatureSchemaMismatchError`
   * when it was trained on other features than this process computes.
   */
  loadLive(): Promise<ActiveModel | undefined>;
}

function intervalOf(stored: StoredModel): BarInterval {
  const interval = stored.featureSchema.interval;
  if (!(interval in BAR_INTERVALS)) throw new RangeError(`model ${stored.version}: unknown bar interval "${interval}" in its feature schema`);
  return interval as BarInterval;
}

/** The label horizon recorded with a model (metrics.labels.horizon), 1 when absent. */
export function modelHorizonBars(stored: Pick<StoredModel, 'metrics'>): number {
  const labels = stored.metrics.labels as { horizon?: unknown } | undefined;
  return typeof labels?.horizon === 'number' && Number.isSafeInteger(labels.horizon) && labels.horizon > 0 ? labels.horizon : 1;
}

/** Opens a stored model against the running feature definition of its interval (refused on a schema mismatch). */
export async function activateModel(stored: StoredModel): Promise<ActiveModel> {
  const interval = intervalOf(stored);
  const schema = mlFeatureSchema(interval, stored.featureSchema.lookback);
  const { predictor } = await loadModel(stored, schema);
  return {
    version: stored.version,
    kind: stored.kind,
    classes: stored.classes,
    schema,
    interval,
    lookback: schema.lookback,
    horizonBars: modelHorizonBars(stored),
    predictor,
  };
}

/**
 * The registry's live model of `kind`; with `warmup`, loaded with the stored bars its features
 * need (`warmupBarsFor(lookback)` per symbol). A failed warm-up read does not fail the load: the
 * model comes without one (and warms up on live bars), and `onWarmupError` is told.
 */
export function registryModelSource(
  store: ModelRegistry,
  kind: ModelKind = 'random-forest',
  options: { readonly warmup?: WarmupReader; readonly onWarmupError?: (error: unknown) => void } = {},
): ModelSource {
  return {
    kind,
    liveVersion: async () => (await store.list(kind)).find((model) => model.status === 'live')?.version,
    loadLive: async () => {
      const stored = await store.live(kind);
      if (stored === undefined) return undefined;
      const active = await activateModel(stored);
      if (options.warmup === undefined) return active;
      try {
        return { ...active, warmup: await options.warmup(active.interval, warmupBarsFor(active.lookback)) };
      } catch (error) {
        options.onWarmupError?.(error);
        return active;
      }
    },
  };
}

/** Always the given model (backtests and benchmarks). */
export function fixedModelSource(stored: StoredModel): ModelSource {
  return { kind: stored.kind, liveVersion: () => Promise.resolve(stored.version), loadLive: () => activateModel(stored) };
}

/** A freshly trained model as a registry entry that was never stored (backtests, benchmarks). */
export function unstoredModel(trained: TrainedModel): StoredModel {
  return {
    version: trained.version,
    kind: trained.kind,
    status: 'live',
    createdAtMs: trained.trainingWindow.toMs,
    promotedAtMs: null,
    statusChangedAtMs: trained.trainingWindow.toMs,
    featureSchemaHash: trained.featureSchemaHash,
    classes: trained.classes,
    metrics: trained.metrics,
    trainingWindow: trained.trainingWindow,
    onnxBytes: trained.onnx.length,
    onnxSha256: '',
    featureSchema: trained.featureSchema,
    onnx: trained.onnx,
  };
}
