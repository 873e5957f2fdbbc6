/**
 * `npx tsx bench/ml.bench.ts [-- --json] [--trees 25] [--rows 2000]`
 *
 * The Random Forest on ../shared/data/nse-5min (INFY, TCS, RELIANCE, SBIN; labels: direction 6
 * bars ahead, dead band 0.1 %):
 * 1. features: bars/s of the feature engine (one symbol's 1,650 bars, bar by bar);
 * 2. training: wall time of ml-random-forest on `--rows` rows (`--trees` trees, depth 6, 8 features each);
 * 3. ONNX inference through onnxruntime-node (one CPU thread): latency of one row (p50, p99 over
 *    5,000 calls) and of a batch of 50 rows (50 symbols on a bar; p50, p99 over 1,000 calls),
 *    measured around `predict` (tensor in, probabilities out).
 * Prints a table (progress on stderr); with --json prints one JSON object; always writes
 * bench/results/ml.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { intOption } from '../src/cli/args.js';
import { buildDataset, walkForwardSplit } from '../src/ml/dataset.js';
import { featureRows, mlFeatureSchema } from '../src/ml/features.js';
import { trainForest } from '../src/ml/forest/forest.js';
import { forestToOnnx } from '../src/ml/forest/onnx-export.js';
import { createOnnxPredictor } from '../src/ml/model.js';
import { istTimeMs } from '../src/model/index.js';
import { readDataFolder } from '../src/streams/sources/csv-replay.js';
import { benchArgs } from './support.js';

const OPTIONS = [
  { name: 'trees', description: 'Trees in the forest', default: '25', valueName: 'n' },
  { name: 'rows', description: 'Training rows', default: '2000', valueName: 'n' },
  { name: 'json', description: 'Print one JSON object', flag: true },
] as const;

const values = benchArgs('npx tsx bench/ml.bench.ts', 'Random Forest: feature throughput, training time, ONNX single-row and 50-row latency.', OPTIONS);
const say = (line: string): void => void process.stderr.write(`${line}\n`);
const trees = intOption(values, 'trees');
const rows = intOption(values, 'rows', 10);

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

say('reading ../shared/data/nse-5min…');
const data = await readDataFolder(resolve('../shared/data/nse-5min'), { symbols: ['INFY', 'TCS', 'RELIANCE', 'SBIN'] });
const schema = mlFeatureSchema(data.interval);

const infy = data.bars.get('INFY')!;
featureRows(infy); // warm the JIT
const featureStart = performance.now();
featureRows(infy);
const featureMs = performance.now() - featureStart;
say(`features: ${infy.length} bars in ${featureMs.toFixed(0)} ms`);

const dataset = buildDataset(data.bars, schema, { horizon: 6, threshold: 0.001, mode: 'ternary', sameSession: true });
const { train, test } = walkForwardSplit(dataset.samples, istTimeMs('2026-06-12', 0, 0));
say(`training ${trees} trees on ${Math.min(rows, train.length)} of ${train.length} rows…`);
const trained = trainForest(train, dataset.classes.length, {
  trees,
  maxDepth: 6,
  maxFeatures: 8,
  minNodeSamples: 20,
  minGain: 0,
  seed: 42,
  maxTrainingRows: rows,
});
say(`trained in ${(trained.trainMs / 1000).toFixed(1)} s`);
const onnx = forestToOnnx(trained);
const predictor = await createOnnxPredictor(onnx, { featureCount: schema.names.length, lookback: 1, classes: dataset.classes });

async function latencies(batch: number, calls: number): Promise<number[]> {
  const samples = Array.from({ length: batch }, (_, i) => test[i % test.length]!.x);
  for (let i = 0; i < 200; i++) await predictor.predict(samples); // warm-up
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    await predictor.predict(samples);
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}
say('ONNX latency…');
const single = await latencies(1, 5_000);
const fifty = await latencies(50, 1_000);
await predictor.close();

const result = {
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
  features: { count: schema.names.length, bars: infy.length, ms: Math.round(featureMs), barsPerSecond: Math.round(infy.length / (featureMs / 1000)) },
  training: {
    trees,
    rows: trained.rows,
    features: schema.names.length,
    maxDepth: 6,
    featuresPerTree: 8,
    seconds: Number((trained.trainMs / 1000).toFixed(2)),
    onnxBytes: onnx.length,
  },
  onnxSingleRow: { calls: single.length, p50Ms: Number(percentile(single, 50).toFixed(4)), p99Ms: Number(percentile(single, 99).toFixed(4)) },
  onnxBatch50: { calls: fifty.length, p50Ms: Number(percentile(fifty, 50).toFixed(4)), p99Ms: Number(percentile(fifty, 99).toFixed(4)) },
};
mkdirSync(resolve('bench/results'), { recursive: true });
writeFileSync(resolve('bench/results/ml.json'), `${JSON.stringify(result, null, 2)}\n`);
if (values.json === 'true') process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
else {
  process.stdout.write(
    [
      `features        ${result.features.count} per bar, ${result.features.barsPerSecond} bars/s (one symbol, bar by bar)`,
      `training        ${trees} trees, ${trained.rows} rows × ${schema.names.length} features: ${result.training.seconds} s (ONNX ${onnx.length} bytes)`,
      `ONNX 1 row      p50 ${result.onnxSingleRow.p50Ms} ms, p99 ${result.onnxSingleRow.p99Ms} ms`,
      `ONNX 50 rows    p50 ${result.onnxBatch50.p50Ms} ms, p99 ${result.onnxBatch50.p99Ms} ms`,
      'written to bench/results/ml.json',
    ].join('\n') + '\n',
  );
}
