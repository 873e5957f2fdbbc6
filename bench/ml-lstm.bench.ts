/**
 * `npx tsx bench/ml-lstm.bench.ts [--symbols INFY,RELIANCE] [--epochs 20] [--json]`
 *
 * The LSTM on real bars with the stand-in features (src/ml/lstm/stand-in-dataset.ts: log
 * return, range, gap, volume z-score — not the ML service's feature set):
 * 1. training: one model per symbol on the windows labelled before `--cut`, with tfjs on its
 *    pure-JS CPU backend; wall time and loss per epoch (progress on stderr);
 * 2. honesty: out-of-sample accuracy on the windows from `--cut` on, against the majority
 *    class of the training labels (the baseline a constant model gets), with its standard
 *    error; in-sample accuracy beside it;
 * 3. parity on the whole test window: the largest |onnxruntime − tfjs| probability difference
 *    and the number of differing classes;
 * 4. inference with onnxruntime-node (1 intra-op thread): one window per call p50/p99, and
 *    50 windows (50 symbols on a bar) per call p50/p99; tfjs's single-window p50 for contrast.
 * Prints a table and writes bench/results/ml-lstm.json. The machine's load average is
 * recorded: the figures are wall times on a shared machine.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { intOption, parseArgs, usage, UsageError } from '../src/cli/args.js';
import {
  classCounts,
  disposeLstm,
  exportLstmToOnnx,
  LstmOnnxPredictor,
  predictWithTfjs,
  splitAtTime,
  standInSamples,
  trainLstm,
  type SequenceDataset,
} from '../src/ml/lstm/index.js';
import { istDate, istTimeMs } from '../src/model/time.js';
import { readBarsFile } from '../src/streams/sources/csv-replay.js';

const OPTIONS = [
  { name: 'data', description: 'Folder of per-symbol bar files', default: '../shared/data/nse-daily', valueName: 'dir' },
  { name: 'symbols', description: 'Symbols, one model each', default: 'INFY,RELIANCE', valueName: 'list' },
  { name: 'cut', description: 'First day of the test window (IST date)', default: '2024-10-01', valueName: 'date' },
  { name: 'time-steps', description: 'Bars per window', default: '20', valueName: 'n' },
  { name: 'horizon', description: 'Label horizon in bars (up or not after n bars)', default: '1', valueName: 'n' },
  { name: 'units', description: 'LSTM units', default: '16', valueName: 'n' },
  { name: 'epochs', description: 'Training epochs', default: '20', valueName: 'n' },
  { name: 'batch-size', description: 'Training batch size', default: '64', valueName: 'n' },
  { name: 'runs', description: 'Single-window predictions timed (batches: a quarter)', default: '2000', valueName: 'n' },
  { name: 'json', description: 'Print one JSON object', flag: true },
] as const;

let parsed: Record<string, string> | undefined;
try {
  parsed = parseArgs(process.argv.slice(2), OPTIONS);
} catch (error) {
  process.stderr.write(`ml-lstm bench: ${error instanceof Error ? error.message : String(error)} (see --help)\n`);
  process.exit(2);
}
const values = parsed;
if (!values) {
  process.stdout.write(
    `${usage('npx tsx bench/ml-lstm.bench.ts', 'LSTM: training time, out-of-sample accuracy, ONNX parity and inference latency on real bars.', OPTIONS)}\n`,
  );
  process.exit(0);
}
function options(): { cutMs: number; timeSteps: number; horizonBars: number; units: number; epochs: number; batchSize: number; runs: number } {
  const cutMs = /^\d{4}-\d{2}-\d{2}$/.test(values!.cut!) ? istTimeMs(values!.cut!, 0, 0) : Number.NaN;
  if (!Number.isFinite(cutMs)) throw new UsageError(`--cut must be a date like 2024-10-01, got "${values!.cut}"`);
  return {
    cutMs,
    timeSteps: intOption(values!, 'time-steps', 1),
    horizonBars: intOption(values!, 'horizon', 1),
    units: intOption(values!, 'units', 1),
    epochs: intOption(values!, 'epochs', 1),
    batchSize: intOption(values!, 'batch-size', 1),
    runs: intOption(values!, 'runs', 10),
  };
}
let settings: ReturnType<typeof options>;
try {
  settings = options();
} catch (error) {
  process.stderr.write(`ml-lstm bench: ${error instanceof Error ? error.message : String(error)} (see --help)\n`);
  process.exit(2);
}
const { cutMs, timeSteps, horizonBars, units, epochs, batchSize, runs } = settings;
const symbols = values.symbols!.split(',').filter(Boolean);
const asJson = values.json === 'true';
const say = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const round = (value: number, digits = 3): number => Number(value.toFixed(digits));

async function timeCalls(count: number, call: () => unknown): Promise<{ p50Ms: number; p99Ms: number; meanMs: number; cpuMsPerCall: number }> {
  const times: number[] = [];
  const cpu = process.cpuUsage();
  for (let i = 0; i < count; i += 1) {
    const start = performance.now();
    await call();
    times.push(performance.now() - start);
  }
  const used = process.cpuUsage(cpu);
  times.sort((a, b) => a - b);
  return {
    p50Ms: round(percentile(times, 50), 4),
    p99Ms: round(percentile(times, 99), 4),
    meanMs: round(times.reduce((a, b) => a + b, 0) / times.length, 4),
    cpuMsPerCall: round((used.user + used.system) / 1000 / count, 4),
  };
}

const accuracy = (predicted: ArrayLike<number>, actual: ArrayLike<number>): number => {
  let right = 0;
  for (let n = 0; n < actual.length; n += 1) if (predicted[n] === actual[n]) right += 1;
  return right / actual.length;
};

interface SymbolResult {
  readonly symbol: string;
  readonly trainWindows: number;
  readonly testWindows: number;
  readonly trainPeriod: string;
  readonly testPeriod: string;
  readonly trainingSeconds: number;
  /** CPU time of the training (user + system): the cost on a machine shared with others. */
  readonly trainingCpuSeconds: number;
  readonly lossFirstEpoch: number;
  readonly lossLastEpoch: number;
  readonly inSampleAccuracy: number;
  readonly outOfSampleAccuracy: number;
  readonly majorityClass: number;
  readonly majorityBaselineAccuracy: number;
  readonly standardError: number;
  readonly testUpShare: number;
  readonly predictedUpShare: number;
  readonly onnxBytes: number;
  readonly parityMaxAbsDiff: number;
  readonly parityClassMismatches: number;
}

const day = istDate;
const loadAtStart = os.loadavg();
await tf.ready();
const results: SymbolResult[] = [];
let latency: Record<string, unknown> | undefined;

for (const symbol of symbols) {
  const bars = await readBarsFile(resolve(process.cwd(), values.data!, `${symbol}.csv`), symbol);
  const { train, test } = splitAtTime(standInSamples(bars, { timeSteps, horizonBars }), cutMs);
  if (train.dataset.labels.length === 0 || test.dataset.labels.length === 0) {
    process.stderr.write(`ml-lstm bench: ${symbol} has no windows on one side of --cut ${values.cut}\n`);
    process.exit(2);
  }
  say(
    `${symbol}: ${train.dataset.labels.length} training windows (${day(train.endMs[0]!)}..${day(train.endMs.at(-1)!)}), ${test.dataset.labels.length} test windows; training ${epochs} epochs…`,
  );
  const trainingCpu = process.cpuUsage();
  const trained = await trainLstm(train.dataset, { units, epochs, batchSize, classes: 2 }, (progress) => {
    say(`  epoch ${progress.epoch}/${progress.epochs}  loss ${progress.loss.toFixed(4)}  ${(progress.elapsedMs / 1000).toFixed(1)} s`);
  });
  const trainingCpuUsed = process.cpuUsage(trainingCpu);
  const bytes = exportLstmToOnnx(trained, { symbol, stand_in_features: 'log_return,range,gap,volume_z' });
  const predictor = await LstmOnnxPredictor.create(bytes);
  const out = await predictor.predict(test.dataset.sequences);
  const fromTfjs = predictWithTfjs(trained, test.dataset.sequences);
  let parityMaxAbsDiff = 0;
  let parityClassMismatches = 0;
  for (let n = 0; n < test.dataset.labels.length; n += 1) {
    parityMaxAbsDiff = Math.max(
      parityMaxAbsDiff,
      Math.abs(fromTfjs[2 * n]! - out.probabilities[2 * n]!),
      Math.abs(fromTfjs[2 * n + 1]! - out.probabilities[2 * n + 1]!),
    );
    if ((fromTfjs[2 * n + 1]! > fromTfjs[2 * n]! ? 1 : 0) !== out.labels[n]) parityClassMismatches += 1;
  }
  const inSample = await predictor.predict(train.dataset.sequences);
  const counts = classCounts(train.dataset.labels, 2);
  const majorityClass = counts[1]! > counts[0]! ? 1 : 0;
  const testLabels = test.dataset.labels;
  const outOfSampleAccuracy = accuracy(out.labels, testLabels);
  const result: SymbolResult = {
    symbol,
    trainWindows: train.dataset.labels.length,
    testWindows: testLabels.length,
    trainPeriod: `${day(train.endMs[0]!)}..${day(train.endMs.at(-1)!)}`,
    testPeriod: `${day(test.endMs[0]!)}..${day(test.endMs.at(-1)!)}`,
    trainingSeconds: round(trained.trainingMs / 1000, 1),
    trainingCpuSeconds: round((trainingCpuUsed.user + trainingCpuUsed.system) / 1e6, 1),
    lossFirstEpoch: round(trained.lossByEpoch[0]!, 4),
    lossLastEpoch: round(trained.lossByEpoch.at(-1)!, 4),
    inSampleAccuracy: round(accuracy(inSample.labels, train.dataset.labels)),
    outOfSampleAccuracy: round(outOfSampleAccuracy),
    majorityClass,
    majorityBaselineAccuracy: round(accuracy(new Int32Array(testLabels.length).fill(majorityClass), testLabels)),
    standardError: round(Math.sqrt((outOfSampleAccuracy * (1 - outOfSampleAccuracy)) / testLabels.length)),
    testUpShare: round(classCounts(testLabels, 2)[1]! / testLabels.length),
    predictedUpShare: round(classCounts(out.labels, 2)[1]! / testLabels.length),
    onnxBytes: bytes.length,
    parityMaxAbsDiff: Number(parityMaxAbsDiff.toPrecision(3)),
    parityClassMismatches,
  };
  results.push(result);
  say(
    `  out of sample ${result.outOfSampleAccuracy} (±${result.standardError}) vs majority ${result.majorityBaselineAccuracy}; parity max |Δp| ${result.parityMaxAbsDiff}`,
  );

  if (!latency) {
    latency = await measureLatency(predictor, trained, test.dataset);
  }
  await predictor.release();
  disposeLstm(trained);
}

async function measureLatency(
  predictor: LstmOnnxPredictor,
  trained: Parameters<typeof predictWithTfjs>[0],
  windows: SequenceDataset,
): Promise<Record<string, unknown>> {
  say(`latency: ${runs} single-window calls, ${Math.ceil(runs / 4)} calls of 50 windows…`);
  const stride = windows.timeSteps * windows.features;
  const count = windows.labels.length;
  const batch = new Float32Array(50 * stride);
  for (let k = 0; k < 50; k += 1) batch.set(windows.sequences.subarray((k % count) * stride, ((k % count) + 1) * stride), k * stride);
  let i = 0;
  const nextWindow = (): Float32Array => {
    i = (i + 1) % count;
    return windows.sequences.subarray(i * stride, (i + 1) * stride);
  };
  await timeCalls(200, () => predictor.predict(nextWindow()));
  const single = await timeCalls(runs, () => predictor.predict(nextWindow()));
  await timeCalls(20, () => predictor.predict(batch));
  const batch50 = await timeCalls(Math.ceil(runs / 4), () => predictor.predict(batch));
  predictWithTfjs(trained, nextWindow());
  const tfjsSingle = await timeCalls(200, () => predictWithTfjs(trained, nextWindow()));
  return { onnxSingleWindow: single, onnxBatchOf50: batch50, tfjsSingleWindow: tfjsSingle };
}

const summary = {
  when: new Date().toISOString(),
  setting: { data: values.data, timeSteps, horizonBars, units, epochs, batchSize, cut: values.cut, features: 'stand-in: log_return, range, gap, volume_z' },
  environment: {
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    loadAverageAtStart: loadAtStart.map((x) => round(x, 2)),
    loadAverageAtEnd: os.loadavg().map((x) => round(x, 2)),
    tfjs: tf.version.tfjs,
    tfjsBackend: tf.getBackend(),
    onnxruntime: ort.env.versions.node,
  },
  symbols: results,
  latency,
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/ml-lstm.json', `${JSON.stringify(summary, null, 2)}\n`);

if (asJson) {
  process.stdout.write(`${JSON.stringify(summary)}\n`);
} else {
  const lines = [
    `LSTM(${units}) over ${timeSteps} bars × 4 stand-in features, up-after-${horizonBars}-bar label, ${epochs} epochs; test from ${values.cut}`,
    'symbol     train  test  train s (cpu s)  in-sample  out-of-sample ± se  majority  parity max|Δp|',
    ...results.map((r) =>
      [
        r.symbol.padEnd(9),
        String(r.trainWindows).padStart(6),
        String(r.testWindows).padStart(5),
        `${r.trainingSeconds.toFixed(1)} (${r.trainingCpuSeconds.toFixed(1)})`.padStart(16),
        r.inSampleAccuracy.toFixed(3).padStart(10),
        `${r.outOfSampleAccuracy.toFixed(3)} ± ${r.standardError.toFixed(3)}`.padStart(18),
        r.majorityBaselineAccuracy.toFixed(3).padStart(9),
        String(r.parityMaxAbsDiff).padStart(15),
      ].join(' '),
    ),
    `onnxruntime, one window:  ${JSON.stringify(latency?.onnxSingleWindow)}`,
    `onnxruntime, 50 windows:  ${JSON.stringify(latency?.onnxBatchOf50)}`,
    `tfjs, one window:         ${JSON.stringify(latency?.tfjsSingleWindow)}`,
    `load average ${summary.environment.loadAverageAtStart.join(' ')} → ${summary.environment.loadAverageAtEnd.join(' ')} on ${summary.environment.cores} cores; wrote bench/results/ml-lstm.json`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
