/**
 * `troupe ml train | list | promote | rollback | evaluate`: the Random Forest's training and
 * the model registry from the command line. Training reads per-symbol CSV files (`--data`),
 * trains on the earlier part of the window and reports on a later held-out part (walk-forward,
 * never shuffled), prints progress on stderr and registers the model as a candidate in the
 * database Troupe would open (PostgreSQL of `DATABASE_URL`, else the embedded store under
 * `TROUPE_DATA_DIR`). See docs/ml.md.
 */
import { writeFile } from 'node:fs/promises';
import { ConfigError, loadConfig } from '../config/config.js';
import { buildDataset } from '../ml/dataset.js';
import { evaluateClassifier, type EvaluationMetrics } from '../ml/evaluate.js';
import { mlFeatureSchema } from '../ml/features.js';
import { DEFAULT_FOREST_OPTIONS, type ForestOptions } from '../ml/forest/forest-options.js';
import { trainRandomForestModel } from '../ml/forest/train-model.js';
import type { LabelOptions } from '../ml/labels.js';
import { FeatureSchemaMismatchError, type ClassName, type ModelKind } from '../ml/model.js';
import { encodeModelFile } from '../ml/model-file.js';
import { loadModel, type ModelSummary, type StoredModel } from '../ml/registry.js';
import { istDate, istTimeMs, type Bar, type BarInterval } from '../model/index.js';
import { openDatabase, type Database } from '../persistence/database.js';
import { migrate } from '../persistence/migrate.js';
import { MlModelStore, ModelRegistryError } from '../persistence/ml-model-store.js';
import { DataFolderError, readDataFolder } from '../streams/sources/csv-replay.js';
import {
  DataError,
  intOption,
  istDateOption,
  istDateRange,
  istDateRangeOptions,
  listOption,
  parseArgs,
  usage,
  usageErrorText,
  UsageError,
  type OptionSpec,
} from './args.js';

export interface MlCommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** The environment to configure from (default: the process's). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const defaultIo: MlCommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

const ML_HELP = [
  'Usage: troupe ml <command> [options]   (each takes --help)',
  '',
  'Commands:',
  '  train     --data <dir> [--symbols A,B] [--from D] [--to D] [--test-from D]   Train a Random Forest, report out-of-sample, register it as a candidate',
  '  list      [--kind random-forest|lstm]                                          The registry: versions, status, metrics',
  '  promote   --model <version>                                                   Make a model live (the live one of its kind is retired)',
  '  rollback  [--kind random-forest|lstm]                                         Back to the model that was live before',
  '  evaluate  --model <version|live> --data <dir> [--from D] [--to D]              A registered model (through ONNX) on other data',
  '  export    --model <version|live> --out <file.json>                             A registered model as one file (npm run backtest -- --model file.json)',
  '',
  'Models are stored in the database Troupe opens: DATABASE_URL, else the embedded store under TROUPE_DATA_DIR (stop Troupe first).',
].join('\n');

const KIND: OptionSpec = { name: 'kind', description: 'Model kind: random-forest or lstm', default: 'random-forest', valueName: 'kind' };
const JSON_FLAG: OptionSpec = { name: 'json', description: 'Print JSON instead of a table', flag: true };
const WINDOW: readonly OptionSpec[] = [
  { name: 'data', description: 'Folder of SYMBOL.csv files (Kite candles or the layouts of ../shared/data)', required: true, valueName: 'dir' },
  { name: 'symbols', description: "Symbols to use (default: every file; for evaluate: the model's symbols)", valueName: 'A,B,…' },
  ...istDateRangeOptions(),
];

/** A `train` option that sets a {@link ForestOptions} field: its name, help and value name, and how its value is read. */
interface ForestSetting {
  readonly name: string;
  readonly description: string;
  readonly valueName: string;
  read(values: Record<string, string>, name: string): number;
}

/** The `train` options that set the forest, by the field each sets, in the order of the help; each defaults to its field of DEFAULT_FOREST_OPTIONS. */
const FOREST_SETTINGS: { readonly [Field in keyof ForestOptions]: ForestSetting } = {
  trees: { name: 'trees', description: 'Trees in the forest', valueName: 'n', read: intOption },
  maxDepth: { name: 'depth', description: 'Depth limit of a tree', valueName: 'n', read: intOption },
  maxFeatures: {
    name: 'max-features',
    description: 'Features per tree: a whole number or a fraction in (0, 1)',
    valueName: 'n',
    read: (values, name) => numberOption(values, name, (v) => v > 0, 'a whole number or a fraction in (0, 1)'),
  },
  minNodeSamples: { name: 'min-node', description: 'A node with this many rows or fewer is a leaf', valueName: 'n', read: intOption },
  minGain: {
    name: 'min-gain',
    description: 'A split must improve Gini impurity by more than this',
    valueName: 'x',
    read: (values, name) => numberOption(values, name, (v) => v >= 0 && v < 1, 'a number in [0, 1)'),
  },
  maxTrainingRows: {
    name: 'max-rows',
    description: 'At most this many training rows (a seeded random subset; training time grows with its square)',
    valueName: 'n',
    read: (values, name) => intOption(values, name, 10),
  },
  seed: {
    name: 'seed',
    description: 'Seed of the row subset, bagging and feature sampling',
    valueName: 'n',
    read: (values, name) => intOption(values, name, 0),
  },
};
const FOREST_FIELDS = Object.keys(FOREST_SETTINGS) as (keyof ForestOptions)[];

/** The forest settings as `train` lists them, each with its default. */
const FOREST_OPTIONS: readonly OptionSpec[] = FOREST_FIELDS.map((field) => {
  const { name, description, valueName } = FOREST_SETTINGS[field];
  return { name, description, default: String(DEFAULT_FOREST_OPTIONS[field]), valueName };
});

/** The forest's settings from the `train` options. */
function forestOptions(values: Record<string, string>): ForestOptions {
  const settings = FOREST_FIELDS.map((field) => [field, FOREST_SETTINGS[field].read(values, FOREST_SETTINGS[field].name)] as const);
  return Object.fromEntries(settings) as Record<keyof ForestOptions, number>;
}

const TRAIN_SUMMARY =
  'Trains a Random Forest (ml-random-forest) on the bars before --test-from, exports it to ONNX, reports accuracy, precision/recall per class and calibration on the bars from --test-from on (walk-forward: the held-out window is later, never shuffled), and registers it as a candidate.';
const TRAIN_OPTIONS: readonly OptionSpec[] = [
  ...WINDOW,
  { name: 'test-from', description: 'First IST date of the held-out window (default: the date after 75% of the trading days)', valueName: 'YYYY-MM-DD' },
  { name: 'horizon', description: 'Label: direction of the close this many bars ahead', default: '6', valueName: 'bars' },
  {
    name: 'threshold',
    description: 'Label dead band as a fraction: |move| ≤ it is flat (ternary) or unlabelled (binary)',
    default: '0.001',
    valueName: 'fraction',
  },
  { name: 'labels', description: 'ternary (down/flat/up) or binary (down/up)', default: 'ternary', valueName: 'mode' },
  { name: 'cross-sessions', description: 'Intraday: also label rows whose horizon ends on a later day (default: same session only)', flag: true },
  ...FOREST_OPTIONS,
  { name: 'out', description: 'Also write the ONNX model to this file', valueName: 'file.onnx' },
  { name: 'no-register', description: 'Do not store the model in the registry', flag: true },
  JSON_FLAG,
];
const LIST_OPTIONS: readonly OptionSpec[] = [{ name: 'kind', description: 'Only this kind (random-forest or lstm)', valueName: 'kind' }, JSON_FLAG];
const PROMOTE_OPTIONS: readonly OptionSpec[] = [
  { name: 'model', description: 'Version to make live (see troupe ml list)', required: true, valueName: 'version' },
];
const ROLLBACK_OPTIONS: readonly OptionSpec[] = [KIND];
const EVALUATE_OPTIONS: readonly OptionSpec[] = [
  { name: 'model', description: 'Version to evaluate, or "live" (with --kind)', required: true, valueName: 'version|live' },
  KIND,
  ...WINDOW,
  JSON_FLAG,
];

const EXPORT_OPTIONS: readonly OptionSpec[] = [
  { name: 'model', description: 'Version to export, or "live" (with --kind)', required: true, valueName: 'version|live' },
  KIND,
  { name: 'out', description: 'The model file to write (JSON: the registry entry and its ONNX bytes)', required: true, valueName: 'file.json' },
];

const SUBCOMMANDS = {
  train: { summary: TRAIN_SUMMARY, options: TRAIN_OPTIONS },
  list: {
    summary: 'Lists the registered models, newest first: version, kind, status, training window, out-of-sample accuracy and Brier score.',
    options: LIST_OPTIONS,
  },
  promote: { summary: 'Makes a registered model live; the live model of its kind becomes retired.', options: PROMOTE_OPTIONS },
  rollback: { summary: 'Retires the live model of a kind and makes live again the model promoted before it.', options: ROLLBACK_OPTIONS },
  evaluate: {
    summary:
      'Evaluates a registered model through its ONNX bytes on a window of data (same features and labels as it was trained with); refused when its feature schema is not the running one.',
    options: EVALUATE_OPTIONS,
  },
  export: {
    summary:
      'Writes a registered model to one JSON file (version, kind, feature schema, classes, metrics, ONNX bytes with their sha256), for a backtest (npm run backtest -- --strategy ml-signal --model file.json) or keeping outside the database.',
    options: EXPORT_OPTIONS,
  },
} as const;
type Subcommand = keyof typeof SUBCOMMANDS;

function numberOption(values: Record<string, string>, name: string, check: (value: number) => boolean, what: string): number {
  const raw = values[name] ?? '';
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || !check(value)) throw new UsageError(`--${name} must be ${what}, got "${raw}"`);
  return value;
}

function kindOption(values: Record<string, string>): ModelKind {
  const kind = values.kind;
  if (kind !== 'random-forest' && kind !== 'lstm') throw new UsageError(`--kind must be random-forest or lstm, got "${kind ?? ''}"`);
  return kind;
}

async function readWindow(
  values: Record<string, string>,
  symbols: readonly string[] | undefined,
): Promise<{ series: Map<string, Bar[]>; interval: BarInterval }> {
  const { fromMs, toMs } = istDateRange(values);
  const folder = await readDataFolder(values.data!, {
    ...(symbols ? { symbols } : {}),
    ...(fromMs === undefined ? {} : { from: fromMs }),
    ...(toMs === undefined ? {} : { to: toMs }),
  });
  const missing = folder.rejected.filter((r) => r.line === 0);
  if (missing.length > 0) throw new DataError(missing.map((r) => `${r.file}: ${r.reason}`).join('; '));
  if (folder.bars.size === 0) throw new DataError(`no bars in ${values.data!}${symbols ? ` for ${symbols.join(',')}` : ''}`);
  return { series: folder.bars, interval: folder.interval };
}

/** The IST date after `fraction` of the trading days in the data. */
function defaultTestFrom(series: ReadonlyMap<string, readonly Bar[]>, fraction = 0.75): number {
  const dates = [...new Set([...series.values()].flatMap((bars) => bars.map((bar) => istDate(bar.startMs))))].sort();
  const date = dates[Math.min(dates.length - 1, Math.floor(dates.length * fraction))];
  if (date === undefined) throw new DataError('no bars to split');
  return istTimeMs(date, 0, 0);
}

const pct = (value: number | null): string => (value === null ? '   –  ' : `${(value * 100).toFixed(1).padStart(5)}%`);

/** The evaluation as text lines. */
export function formatEvaluation(classes: readonly ClassName[], evaluation: EvaluationMetrics): string[] {
  const lines = [
    `out-of-sample rows: ${evaluation.samples}`,
    `accuracy: ${pct(evaluation.accuracy)}   (training-majority baseline ${pct(evaluation.baselineAccuracy)}, test-majority ${pct(evaluation.majorityAccuracy)})`,
    `Brier score: ${evaluation.brier.toFixed(4)}   log loss: ${evaluation.logLoss.toFixed(4)}   ECE: ${evaluation.ece.toFixed(4)}`,
    'class   precision  recall  support',
    ...classes.map((name) => {
      const c = evaluation.perClass[name]!;
      return `${name.padEnd(6)}  ${pct(c.precision).padStart(9)}  ${pct(c.recall).padStart(6)}  ${String(c.support).padStart(7)}`;
    }),
    'reliability (top-class probability → hit rate):',
    ...evaluation.reliability
      .filter((bin) => bin.count > 0)
      .map(
        (bin) =>
          `  [${bin.from.toFixed(1)}, ${bin.to.toFixed(1)})  n=${String(bin.count).padStart(5)}  confidence ${pct(bin.meanConfidence)}  hit ${pct(bin.accuracy)}`,
      ),
  ];
  return lines;
}

function summaryLine(model: ModelSummary): string {
  const accuracy = typeof model.metrics.accuracy === 'number' ? pct(model.metrics.accuracy) : '   –  ';
  const brier = typeof model.metrics.brier === 'number' ? model.metrics.brier.toFixed(4) : '–';
  const window = `${istDate(model.trainingWindow.fromMs)}..${istDate(model.trainingWindow.toMs)}`;
  return `${model.version.padEnd(34)} ${model.kind.padEnd(13)} ${model.status.padEnd(9)} ${window}  acc ${accuracy}  brier ${brier}  schema ${model.featureSchemaHash.slice(0, 12)}`;
}

async function withRegistry<T>(io: MlCommandIo, fn: (store: MlModelStore) => Promise<T>): Promise<T> {
  const config = io.env === undefined ? loadConfig() : loadConfig(io.env);
  const db: Database = await openDatabase(config);
  try {
    await migrate(db);
    return await fn(new MlModelStore(db));
  } finally {
    await db.close();
  }
}

async function train(values: Record<string, string>, io: MlCommandIo): Promise<number> {
  const symbols = listOption(values, 'symbols');
  const mode = values.labels;
  if (mode !== 'ternary' && mode !== 'binary') throw new UsageError(`--labels must be ternary or binary, got "${mode ?? ''}"`);
  const forest = forestOptions(values);
  const horizon = intOption(values, 'horizon');
  const threshold = numberOption(values, 'threshold', (v) => v >= 0 && v < 1, 'a fraction ≥ 0, e.g. 0.001');
  const say = (line: string): void => io.stderr(`ml train: ${line}\n`);
  say(`reading ${values.data!}…`);
  const { series, interval } = await readWindow(values, symbols);
  const labels: LabelOptions = { horizon, threshold, mode, sameSession: interval !== '1d' && values['cross-sessions'] !== 'true' };
  const testFromMs = istDateOption(values, 'test-from') ?? defaultTestFrom(series);
  say(`${series.size} symbol(s) of ${interval} bars; held-out window from ${istDate(testFromMs)}`);
  const result = await trainRandomForestModel({ series, interval, labels, forest, testFromMs, onProgress: say });
  if (values.out !== undefined) {
    await writeFile(values.out, result.model.onnx);
    say(`wrote ${values.out}`);
  }
  let registered: ModelSummary | undefined;
  if (values['no-register'] !== 'true') {
    registered = await withRegistry(io, (store) => store.register(result.model));
    say(`registered ${registered.version} as a candidate (troupe ml promote --model ${registered.version})`);
  }
  if (values.json === 'true') {
    io.stdout(
      `${JSON.stringify({ version: result.model.version, registered: registered !== undefined, trainingWindow: result.model.trainingWindow, trainSamples: result.trainSamples, testSamples: result.testSamples, trainMs: Math.round(result.trainMs), metrics: result.model.metrics }, null, 2)}\n`,
    );
  } else {
    io.stdout(
      `model ${result.model.version}: trained on ${result.trainSamples} rows ${istDate(result.model.trainingWindow.fromMs)}..${istDate(result.model.trainingWindow.toMs)} in ${(result.trainMs / 1000).toFixed(1)} s\n`,
    );
    io.stdout(`${formatEvaluation(result.model.classes, result.evaluation).join('\n')}\n`);
  }
  return 0;
}

/** `--model <version|live>` (with `--kind`) from the registry, with its bytes. */
function storedModel(values: Record<string, string>, io: MlCommandIo): Promise<StoredModel> {
  const kind = kindOption(values);
  return withRegistry(io, async (store) => {
    if (values.model !== 'live') return store.get(values.model!);
    const live = await store.live(kind);
    if (!live) throw new ModelRegistryError(`no live ${kind} model (troupe ml promote --model <version>)`);
    return live;
  });
}

async function evaluate(values: Record<string, string>, io: MlCommandIo): Promise<number> {
  const stored = await storedModel(values, io);
  const labelsRaw = stored.metrics.labels as Partial<LabelOptions> | undefined;
  if (
    !labelsRaw ||
    typeof labelsRaw.horizon !== 'number' ||
    typeof labelsRaw.threshold !== 'number' ||
    (labelsRaw.mode !== 'ternary' && labelsRaw.mode !== 'binary') ||
    typeof labelsRaw.sameSession !== 'boolean'
  ) {
    throw new ModelRegistryError(`model ${stored.version} does not record its label options`);
  }
  const labels: LabelOptions = { horizon: labelsRaw.horizon, threshold: labelsRaw.threshold, mode: labelsRaw.mode, sameSession: labelsRaw.sameSession };
  const modelSymbols = Array.isArray(stored.metrics.symbols) ? stored.metrics.symbols.filter((s): s is string => typeof s === 'string') : undefined;
  const symbols = listOption(values, 'symbols') ?? modelSymbols;
  const { series, interval } = await readWindow(values, symbols);
  const schema = mlFeatureSchema(interval, stored.featureSchema.lookback);
  const { predictor } = await loadModel(stored, schema);
  try {
    const dataset = buildDataset(series, schema, labels);
    if (dataset.samples.length === 0) throw new DataError('no labelled rows in the window (each symbol needs 101 bars of warm-up)');
    const probabilities = await predictor.predict(dataset.samples.map((sample) => sample.x));
    const evaluation = evaluateClassifier(
      stored.classes,
      probabilities,
      dataset.samples.map((sample) => sample.y),
    );
    if (values.json === 'true') io.stdout(`${JSON.stringify({ version: stored.version, metrics: evaluation }, null, 2)}\n`);
    else
      io.stdout(
        `model ${stored.version} on ${series.size} symbol(s), ${istDate(dataset.samples[0]!.startMs)}..${istDate(dataset.samples[dataset.samples.length - 1]!.startMs)}\n${formatEvaluation(stored.classes, evaluation).join('\n')}\n`,
      );
  } finally {
    await predictor.close();
  }
  return 0;
}

async function run(sub: Subcommand, values: Record<string, string>, io: MlCommandIo): Promise<number> {
  switch (sub) {
    case 'train':
      return train(values, io);
    case 'list': {
      const kind = values.kind === undefined ? undefined : kindOption(values);
      const models = await withRegistry(io, (store) => store.list(kind));
      if (values.json === 'true') io.stdout(`${JSON.stringify(models, null, 2)}\n`);
      else io.stdout(models.length === 0 ? 'no models (troupe ml train --help)\n' : `${models.map(summaryLine).join('\n')}\n`);
      return 0;
    }
    case 'promote': {
      const { promoted, retired } = await withRegistry(io, (store) => store.promote(values.model!));
      io.stdout(`${promoted.version} is live${retired ? `; ${retired} retired` : ''}\n`);
      return 0;
    }
    case 'rollback': {
      const { restored, retired } = await withRegistry(io, (store) => store.rollback(kindOption(values)));
      io.stdout(`${restored.version} is live again; ${retired} retired\n`);
      return 0;
    }
    case 'evaluate':
      return evaluate(values, io);
    case 'export': {
      const stored = await storedModel(values, io);
      await writeFile(values.out!, encodeModelFile(stored));
      io.stdout(`${stored.version} (${stored.kind}, ${stored.onnxBytes} bytes of ONNX) written to ${values.out!}\n`);
      return 0;
    }
  }
}

/** Runs `troupe ml …`; returns the exit code (0 ok, 1 failed, 2 usage, configuration or unusable data). */
export async function mlCommand(argv: readonly string[], io: MlCommandIo = defaultIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    (sub === undefined ? io.stderr : io.stdout)(`${ML_HELP}\n`);
    return sub === undefined ? 2 : 0;
  }
  if (!(sub in SUBCOMMANDS)) {
    io.stderr(usageErrorText('troupe ml', `unknown command "${sub}" (${Object.keys(SUBCOMMANDS).join(', ')})`, 'troupe ml --help'));
    return 2;
  }
  const name = sub as Subcommand;
  const { summary, options } = SUBCOMMANDS[name];
  try {
    const values = parseArgs(rest, options);
    if (values === undefined) {
      io.stdout(`${usage(`troupe ml ${name}`, summary, options)}\n`);
      return 0;
    }
    return await run(name, values, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(usageErrorText(`troupe ml ${name}`, error.message, `troupe ml ${name} --help`));
      return 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`troupe ml ${name}: ${message}\n`);
    const unusable = error instanceof ConfigError || error instanceof DataError || error instanceof DataFolderError || error instanceof RangeError;
    if (error instanceof ModelRegistryError || error instanceof FeatureSchemaMismatchError) return 1;
    return unusable ? 2 : 1;
  }
}
