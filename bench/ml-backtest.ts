/**
 * `npx tsx bench/ml-backtest.ts [--trees 25] [--rows 1500]`: the honest comparison of docs/ml.md.
 *
 * A Random Forest is trained on ../shared/data/nse-5min before `TRAIN_UNTIL` (labels purged at the
 * cut), then three backtests run on the later window through the same actor tree, after Zerodha's
 * charges: `ml-signal` trading the model's predictions (the ML actor warms up on the window's
 * first 101 bars, so every prediction it trades is out of sample), `ema-cross` on 5-minute bars
 * (MIS, its defaults otherwise), and buy-and-hold (buy `QUANTITY` of each symbol at the window's
 * first open, CNC, value at the last close, less the charges of one delivery buy and one sell).
 * Writes bench/results/ml-backtest.json and prints the table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { intOption, parseArgs } from '../src/cli/args.js';
import { runBacktest, loadCsvData } from '../src/backtest/backtest.js';
import { buildDataset, walkForwardSplit } from '../src/ml/dataset.js';
import { evaluateClassifier } from '../src/ml/evaluate.js';
import { mlFeatureSchema } from '../src/ml/features.js';
import { trainForest } from '../src/ml/forest/forest.js';
import { forestToOnnx } from '../src/ml/forest/onnx-export.js';
import { createOnnxPredictor, type TrainedModel } from '../src/ml/model.js';
import { fixedModelSource, unstoredModel } from '../src/ml/model-source.js';
import { chargesForOrderExecution, istTimeMs } from '../src/model/index.js';

const OPTIONS = [
  { name: 'trees', description: 'Trees', default: '25', valueName: 'n' },
  { name: 'rows', description: 'Training rows', default: '1500', valueName: 'n' },
] as const;
const values = parseArgs(process.argv.slice(2), OPTIONS)!;
const DATA = '../shared/data/nse-5min';
const TRAIN_UNTIL = istTimeMs('2026-06-10', 0, 0);
const QUANTITY = 10;
const CASH = 1_00_00_000_00;
const say = (line: string): void => void process.stderr.write(`${line}\n`);

const data = await loadCsvData(DATA);
const symbols = data.instruments.map((instrument) => instrument.symbol);
const schema = mlFeatureSchema('5m');
const labels = { horizon: 6, threshold: 0.001, mode: 'ternary', sameSession: true } as const;
const dataset = buildDataset(data.bars, schema, labels);
const { train, test } = walkForwardSplit(dataset.samples, TRAIN_UNTIL);
say(`training on ${train.length} rows of ${symbols.length} symbols before 2026-06-10…`);
const forest = trainForest(train, 3, {
  trees: intOption(values, 'trees'),
  maxDepth: 6,
  maxFeatures: 8,
  minNodeSamples: 20,
  minGain: 0,
  seed: 42,
  maxTrainingRows: intOption(values, 'rows', 10),
});
const model: TrainedModel = {
  kind: 'random-forest',
  version: 'rf-honest',
  featureSchemaHash: schema.hash,
  featureSchema: schema,
  classes: ['down', 'flat', 'up'],
  metrics: { samples: 0, accuracy: 0, brier: 0, perClass: {}, labels },
  trainingWindow: { fromMs: train[0]!.startMs, toMs: train[train.length - 1]!.startMs },
  onnx: forestToOnnx(forest),
};
const predictor = await createOnnxPredictor(model.onnx, { featureCount: schema.names.length, lookback: 1, classes: model.classes });
const evaluation = evaluateClassifier(
  model.classes,
  await predictor.predict(test.map((s) => s.x)),
  test.map((s) => s.y),
);
await predictor.close();
say(`out of sample: accuracy ${(evaluation.accuracy * 100).toFixed(1)}% on ${test.length} rows`);

const common = { dataDir: DATA, data, fromMs: TRAIN_UNTIL, initialCashPaise: CASH } as const;
say('backtest ml-signal…');
const ml = await runBacktest({
  ...common,
  strategyKind: 'ml-signal',
  strategyConfig: { quantity: QUANTITY },
  ml: { source: fixedModelSource(unstoredModel(model)) },
});
say('backtest ema-cross…');
const ema = await runBacktest({
  ...common,
  strategyKind: 'ema-cross',
  strategyConfig: { quantity: QUANTITY, source: '5m', product: 'MIS', allowShort: false },
});

// buy-and-hold, computed here: one CNC buy at the window's first open, valued at its last close
let holdGross = 0;
let holdCharges = 0;
for (const symbol of symbols) {
  const bars = data.bars.get(symbol)!.filter((bar) => bar.startMs >= TRAIN_UNTIL);
  const first = bars[0]!;
  const last = bars[bars.length - 1]!;
  holdGross += QUANTITY * (last.closePaise - first.openPaise);
  holdCharges += chargesForOrderExecution({ side: 'BUY', quantity: QUANTITY, pricePaise: first.openPaise, product: 'CNC' }).totalPaise;
  holdCharges += chargesForOrderExecution({ side: 'SELL', quantity: QUANTITY, pricePaise: last.closePaise, product: 'CNC' }).totalPaise;
}

const row = (name: string, r: Awaited<ReturnType<typeof runBacktest>>) => ({
  strategy: name,
  netPnlRupees: (r.metrics.endEquityPaise - r.metrics.startEquityPaise) / 100,
  chargesRupees: r.metrics.chargesPaise / 100,
  grossPnlRupees: (r.metrics.endEquityPaise - r.metrics.startEquityPaise + r.metrics.chargesPaise) / 100,
  trades: r.metrics.trades,
  roundTrips: r.metrics.roundTrips,
  winRatePct: r.metrics.winRatePct,
  maxDrawdownRupees: r.metrics.maxDrawdownPaise / 100,
});
const table = [
  row('ml-signal', ml),
  row('ema-cross (5m, MIS)', ema),
  {
    strategy: 'buy-and-hold (CNC)',
    netPnlRupees: (holdGross - holdCharges) / 100,
    chargesRupees: holdCharges / 100,
    grossPnlRupees: holdGross / 100,
    trades: 2 * symbols.length,
    roundTrips: symbols.length,
    winRatePct: null,
    maxDrawdownRupees: null,
  },
];
const result = {
  window: { from: '2026-06-10', to: 'end of data' },
  symbols,
  quantityPerSymbol: QUANTITY,
  model: {
    trees: intOption(values, 'trees'),
    trainRows: Math.min(train.length, intOption(values, 'rows', 10)),
    outOfSampleAccuracy: evaluation.accuracy,
    brier: evaluation.brier,
    testRows: test.length,
  },
  table,
};
mkdirSync(resolve('bench/results'), { recursive: true });
writeFileSync(resolve('bench/results/ml-backtest.json'), `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
