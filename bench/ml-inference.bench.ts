/**
 * `npx tsx bench/ml-inference.bench.ts [-- --json] [--trees 25] [--rows 500] [--bars 400]`
 * (also `npm run bench -- --ml-inference`)
 *
 * Inference inside the actor tree: a Random Forest trained here on ../shared/data/nse-5min
 * (`--trees`, depth 6, `--rows` training rows), loaded by the ML actor (`/ml/random-forest`)
 * with onnxruntime-node, fed closed bars through the symbol actors like a live feed.
 * 1. onnx-1: one ONNX run of one row through `OnnxPredictor.predict` (p50, p99 over 5,000 calls);
 * 2. single: one symbol, one bar close → its `PredictionMade` on the bus (features, the ONNX run
 *    piped back as a message, publication), p50/p99 over `--bars` bars after the warm-up;
 * 3. fifty: 50 symbols (the 10 shared files, each 5 times under another name) closing a bar at
 *    once → all 50 predictions published (one ONNX run of 50 rows), p50/p99 over `--bars` bars.
 * Prints a table; with --json one JSON object; always writes bench/results/ml-inference.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { intOption, parseArgs, usage } from '../src/cli/args.js';
import { buildDataset, walkForwardSplit } from '../src/ml/dataset.js';
import { mlFeatureSchema } from '../src/ml/features.js';
import { trainForest } from '../src/ml/forest/forest.js';
import { forestToOnnx } from '../src/ml/forest/onnx-export.js';
import { createOnnxPredictor, type TrainedModel } from '../src/ml/model.js';
import { fixedModelSource, unstoredModel } from '../src/ml/model-source.js';
import { istTimeMs, type Bar, type Instrument } from '../src/model/index.js';
import { Runtime } from '../src/runtime/runtime.js';
import { readDataFolder } from '../src/streams/sources/csv-replay.js';

const OPTIONS = [
  { name: 'trees', description: 'Trees in the forest', default: '25', valueName: 'n' },
  { name: 'rows', description: 'Training rows', default: '500', valueName: 'n' },
  { name: 'bars', description: 'Timed bar closes after the 101-bar warm-up', default: '400', valueName: 'n' },
  { name: 'json', description: 'Print one JSON object', flag: true },
] as const;
const values = parseArgs(
  process.argv.slice(2).filter((arg) => arg !== '--ml-inference'),
  OPTIONS,
);
if (!values) {
  process.stdout.write(
    `${usage('npx tsx bench/ml-inference.bench.ts', 'ML inference in the actor tree: one symbol and 50 symbols per bar close, p50/p99.', OPTIONS)}\n`,
  );
  process.exit(0);
}
const say = (line: string): void => void process.stderr.write(`${line}\n`);
const trees = intOption(values, 'trees');
const rows = intOption(values, 'rows', 10);
const timedBars = intOption(values, 'bars', 10);

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
const summary = (samples: number[]): { readonly n: number; readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number } => {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50Ms: Number(percentile(sorted, 50).toFixed(4)),
    p99Ms: Number(percentile(sorted, 99).toFixed(4)),
    maxMs: Number(sorted[sorted.length - 1]!.toFixed(4)),
  };
};

say('reading ../shared/data/nse-5min and training…');
const data = await readDataFolder('../shared/data/nse-5min');
const schema = mlFeatureSchema('5m');
const labels = { horizon: 6, threshold: 0.001, mode: 'ternary', sameSession: true } as const;
const { train } = walkForwardSplit(buildDataset(new Map([...data.bars].slice(0, 4)), schema, labels).samples, istTimeMs('2026-06-12', 0, 0));
const forest = trainForest(train, 3, { trees, maxDepth: 6, maxFeatures: 8, minNodeSamples: 20, minGain: 0, seed: 42, maxTrainingRows: rows });
const trained: TrainedModel = {
  kind: 'random-forest',
  version: 'rf-bench',
  featureSchemaHash: schema.hash,
  featureSchema: schema,
  classes: ['down', 'flat', 'up'],
  metrics: { samples: 0, accuracy: 0, brier: 0, perClass: {}, labels },
  trainingWindow: { fromMs: train[0]!.startMs, toMs: train[train.length - 1]!.startMs },
  onnx: forestToOnnx(forest),
};

// 1. the bare ONNX run of one row
const predictor = await createOnnxPredictor(trained.onnx, { featureCount: schema.names.length, lookback: 1, classes: trained.classes });
const row = train[train.length - 1]!.x;
const bare: number[] = [];
for (let i = 0; i < 5_500; i++) {
  const t0 = performance.now();
  await predictor.predict([row]);
  if (i >= 500) bare.push(performance.now() - t0);
}
await predictor.close();

/** A runtime with the ML actor on `instruments`; returns a function that offers one bar close and resolves when its predictions are out. */
async function treeWith(instruments: readonly Instrument[]): Promise<{ runtime: Runtime; close: (bars: readonly Bar[]) => Promise<number> }> {
  const runtime = new Runtime({
    instruments,
    strategies: [],
    portfolio: { portfolioId: 'bench', initialCashPaise: 1_00_00_000_00 },
    clock: { nowMs: () => 0 },
    ml: { source: fixedModelSource(unstoredModel(trained)) },
  });
  runtime.start();
  await runtime.whenIdle(); // the model is loaded
  let waiting: { count: number; resolve: () => void } | undefined;
  runtime.bus.on('PredictionMade', () => {
    if (waiting && --waiting.count === 0) waiting.resolve();
  });
  return {
    runtime,
    close: (bars) =>
      new Promise<number>((resolvePromise) => {
        const t0 = performance.now();
        waiting = { count: bars.length, resolve: () => resolvePromise(performance.now() - t0) };
        runtime.offerBars(bars);
      }),
  };
}

/** Bars of the shared files under `copies` names each, by bar time. */
function stepsOf(copies: number, symbols: number): { instruments: Instrument[]; steps: Bar[][] } {
  const instruments: Instrument[] = [];
  const byTime = new Map<number, Bar[]>();
  for (let copy = 0; copy < copies; copy++) {
    data.instruments.slice(0, symbols).forEach((instrument, i) => {
      const symbol = copies === 1 ? instrument.symbol : `${instrument.symbol}${copy}`;
      instruments.push({ ...instrument, symbol, token: 900_000 + copy * 100 + i });
      for (const bar of data.bars.get(instrument.symbol)!) byTime.set(bar.startMs, [...(byTime.get(bar.startMs) ?? []), { ...bar, symbol }]);
    });
  }
  const steps = [...byTime.keys()]
    .sort((a, b) => a - b)
    .map((t) => byTime.get(t)!)
    .filter((bars) => bars.length === instruments.length);
  return { instruments, steps };
}

async function measure(copies: number, symbols: number): Promise<number[]> {
  const { instruments, steps } = stepsOf(copies, symbols);
  const tree = await treeWith(instruments);
  for (const bars of steps.slice(0, 101)) {
    tree.runtime.offerBars(bars);
    await tree.runtime.whenIdle();
  }
  const samples: number[] = [];
  for (const bars of steps.slice(101, 101 + timedBars)) samples.push(await tree.close(bars));
  const status = await tree.runtime.mlStatus();
  await tree.runtime.stop();
  if (status?.stats.largestRun !== instruments.length)
    throw new Error(`expected runs of ${instruments.length} rows, the largest was ${status?.stats.largestRun}`);
  return samples;
}

say('measuring one symbol…');
const single = await measure(1, 1);
say('measuring 50 symbols…');
const fifty = await measure(5, 10);

const result = {
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', loadAverage1m: Number(loadavg()[0]!.toFixed(2)) },
  model: { trees, depth: 6, trainingRows: Math.min(rows, train.length), onnxBytes: trained.onnx.length, features: schema.names.length },
  onnxOneRow: summary(bare),
  singleSymbolBarToPrediction: summary(single),
  fiftySymbolsBarToPredictions: summary(fifty),
};
mkdirSync(resolve('bench/results'), { recursive: true });
writeFileSync(resolve('bench/results/ml-inference.json'), `${JSON.stringify(result, null, 2)}\n`);
if (values.json === 'true') process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
else {
  const line = (name: string, s: ReturnType<typeof summary>): string =>
    `${name.padEnd(42)} p50 ${s.p50Ms.toFixed(3)} ms   p99 ${s.p99Ms.toFixed(3)} ms   max ${s.maxMs.toFixed(3)} ms   (n=${s.n})`;
  process.stdout.write(
    [
      `ML inference (${trees} trees, depth 6, ${schema.names.length} features; ${result.machine.cpus} CPUs, load ${result.machine.loadAverage1m})`,
      line('ONNX run, 1 row', result.onnxOneRow),
      line('1 symbol: bar close → PredictionMade', result.singleSymbolBarToPrediction),
      line('50 symbols: bar close → 50 predictions', result.fiftySymbolsBarToPredictions),
      'wrote bench/results/ml-inference.json',
      '',
    ].join('\n'),
  );
}
