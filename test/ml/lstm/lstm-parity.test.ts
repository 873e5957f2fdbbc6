/**
 * The LSTM end to end on real daily bars (the stand-in features of INFY): train with tfjs,
 * export to ONNX, run with onnxruntime-node, and compare on held-out windows (after the
 * training period) three ways: onnxruntime vs tfjs, and both vs a float64 LSTM written here
 * from the Keras equations (the independent oracle: it reads the tfjs weights, not the export).
 *
 * Tolerance 1e-5 on each probability. Both runtimes compute in float32 (unit roundoff
 * u = 2⁻²⁴ ≈ 6e-8) but round differently: onnxruntime's MLAS sums the gate products with
 * fused multiply-adds in its own order and uses polynomial sigmoid/tanh; tfjs's CPU backend
 * computes each op in double and rounds it once to float32. A step's gate pre-activation
 * sums F + H + 1 products, so differs by at most ~(F + H + 1)·u relative; the forget gate
 * (< 1) keeps the cell state from amplifying errors across the T steps, so the bound grows at
 * most linearly: T·(F + H + 1)·u ≈ 10·13·6e-8 ≈ 8e-6 here. Observed: ~1e-7. A gate placed
 * wrongly, or hardSigmoid for sigmoid, moves probabilities by 1e-3 and more.
 */
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sliceDataset, type SequenceDataset } from '../../../src/ml/lstm/dataset.js';
import { exportLstmToOnnx } from '../../../src/ml/lstm/onnx-export.js';
import { LstmOnnxPredictor } from '../../../src/ml/lstm/onnx-predictor.js';
import { splitAtTime, standInSamples } from '../../../src/ml/lstm/stand-in-dataset.js';
import { disposeLstm, lstmWeights, predictWithTfjs, trainLstm, type TrainedLstm } from '../../../src/ml/lstm/trainer.js';
import { istTimeMs } from '../../../src/model/time.js';
import { readBarsFile } from '../../../src/streams/sources/csv-replay.js';

const TOLERANCE = 1e-5;
const T = 10;
const UNITS = 8;
const CUT_MS = istTimeMs('2024-10-01', 0, 0);
const CONFIG = { units: UNITS, classes: 2, epochs: 3, batchSize: 64, learningRate: 0.01, seed: 7 };

let train: SequenceDataset;
let heldOut: SequenceDataset;
let trained: TrainedLstm;
let predictor: LstmOnnxPredictor;
let onnxBytes: Uint8Array;

beforeAll(async () => {
  const bars = await readBarsFile(resolve(process.cwd(), '../shared/data/nse-daily/INFY.csv'), 'INFY');
  const split = splitAtTime(standInSamples(bars, { timeSteps: T, horizonBars: 1 }), CUT_MS);
  const trainSamples = split.train.dataset.labels.length;
  train = sliceDataset(split.train.dataset, trainSamples - 256, trainSamples); // the 256 windows before the cut
  heldOut = sliceDataset(split.test.dataset, 0, 100); // the 100 after it
  trained = await trainLstm(train, CONFIG);
  onnxBytes = exportLstmToOnnx(trained);
  predictor = await LstmOnnxPredictor.create(onnxBytes);
});

afterAll(async () => {
  await predictor?.release();
  if (trained) disposeLstm(trained);
});

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Keras LSTM (gates i, f, c, o; sigmoid; tanh) → Dense → softmax, in float64, for one window. */
function referenceProbabilities(model: TrainedLstm, window: Float32Array): number[] {
  const { kernel, recurrentKernel, bias, denseKernel, denseBias } = lstmWeights(model);
  const H = model.config.units;
  const F = model.features;
  const { mean, scale } = model.standardiser;
  let h = new Array<number>(H).fill(0);
  let c = new Array<number>(H).fill(0);
  for (let t = 0; t < model.timeSteps; t += 1) {
    const x = Array.from({ length: F }, (_, f) => (window[t * F + f]! - mean[f]!) / scale[f]!);
    const z = Array.from({ length: 4 * H }, (_, column) => {
      let sum = bias[column]!;
      for (let k = 0; k < F; k += 1) sum += x[k]! * kernel[k * 4 * H + column]!;
      for (let k = 0; k < H; k += 1) sum += h[k]! * recurrentKernel[k * 4 * H + column]!;
      return sum;
    });
    const gate = (block: number, j: number): number => z[block * H + j]!;
    const nextC = c.map((previous, j) => sigmoid(gate(1, j)) * previous + sigmoid(gate(0, j)) * Math.tanh(gate(2, j)));
    h = nextC.map((cell, j) => sigmoid(gate(3, j)) * Math.tanh(cell));
    c = nextC;
  }
  const classes = model.config.classes;
  const logits = Array.from({ length: classes }, (_, k) => denseBias[k]! + h.reduce((sum, value, j) => sum + value * denseKernel[j * classes + k]!, 0));
  const top = Math.max(...logits);
  const exps = logits.map((logit) => Math.exp(logit - top));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

const argmax = (row: ArrayLike<number>): number => {
  let best = 0;
  for (let k = 1; k < row.length; k += 1) if (row[k]! > row[best]!) best = k;
  return best;
};

describe('LSTM: tfjs → ONNX → onnxruntime', () => {
  it('gives the same probabilities and classes on held-out windows, and both match a float64 LSTM', async () => {
    const samples = heldOut.labels.length;
    const stride = T * heldOut.features;
    const fromTfjs = predictWithTfjs(trained, heldOut.sequences);
    const fromOnnx = await predictor.predict(heldOut.sequences);
    expect(fromOnnx.probabilities).toHaveLength(samples * 2);
    let worstOnnx = 0;
    let worstReference = 0;
    let smallestMargin = 1;
    for (let n = 0; n < samples; n += 1) {
      const reference = referenceProbabilities(trained, heldOut.sequences.subarray(n * stride, (n + 1) * stride));
      const tfjsRow = fromTfjs.subarray(n * 2, n * 2 + 2);
      const onnxRow = fromOnnx.probabilities.subarray(n * 2, n * 2 + 2);
      for (let k = 0; k < 2; k += 1) {
        worstOnnx = Math.max(worstOnnx, Math.abs(onnxRow[k]! - tfjsRow[k]!));
        worstReference = Math.max(worstReference, Math.abs(tfjsRow[k]! - reference[k]!), Math.abs(onnxRow[k]! - reference[k]!));
      }
      smallestMargin = Math.min(smallestMargin, Math.abs(reference[1]! - reference[0]!));
      expect(fromOnnx.labels[n]).toBe(argmax(tfjsRow));
      expect(fromOnnx.labels[n]).toBe(argmax(reference));
    }
    expect(worstOnnx).toBeLessThanOrEqual(TOLERANCE);
    expect(worstReference).toBeLessThanOrEqual(TOLERANCE);
    // identical classes mean something only when no window sits on a near-tie the tolerance could flip
    expect(smallestMargin).toBeGreaterThan(2 * TOLERANCE);
    // the model is not a constant: it separates at least some windows differently
    expect(new Set(fromOnnx.labels).size).toBe(2);
  });

  it('writes standard operators at opset 15 and its shape into metadata_props', () => {
    const { onnx } = onnxProto;
    const model = onnx.ModelProto.decode(exportLstmToOnnx(trained, { feature_schema_hash: 'abc', kind: 'not-this' }));
    expect(model.opsetImport.map((opset) => [opset.domain, Number(opset.version)])).toEqual([['', 15]]);
    expect(model.graph?.node?.map((node) => node.opType)).toEqual(['Sub', 'Div', 'Transpose', 'LSTM', 'Squeeze', 'Gemm', 'Softmax', 'ArgMax']);
    expect(Object.fromEntries(model.metadataProps.map((entry) => [entry.key, entry.value]))).toEqual({
      feature_schema_hash: 'abc',
      kind: 'lstm',
      time_steps: String(T),
      features: '4',
      units: String(UNITS),
      classes: '2',
    });
  });

  it('predicts a window alone as it does inside a batch', async () => {
    const stride = T * heldOut.features;
    const batch = await predictor.predict(heldOut.sequences.subarray(0, 8 * stride));
    for (let n = 0; n < 8; n += 1) {
      const single = await predictor.predict(heldOut.sequences.subarray(n * stride, (n + 1) * stride));
      expect(single.labels[0]).toBe(batch.labels[n]);
      expect(Math.abs(single.probabilities[0]! - batch.probabilities[n * 2]!)).toBeLessThanOrEqual(TOLERANCE);
    }
  });

  it('trains deterministically: the same seed gives bit-identical weights and ONNX bytes (and frees its tensors)', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const again = await trainLstm(train, CONFIG);
    try {
      const first = lstmWeights(trained);
      const second = lstmWeights(again);
      for (const key of ['kernel', 'recurrentKernel', 'bias', 'denseKernel', 'denseBias'] as const) expect(second[key]).toEqual(first[key]);
      expect(again.lossByEpoch).toEqual(trained.lossByEpoch);
      expect(exportLstmToOnnx(again)).toEqual(onnxBytes);
    } finally {
      disposeLstm(again);
    }
    const otherSeed = await trainLstm(sliceDataset(train, 0, 64), { ...CONFIG, epochs: 1, seed: 8 });
    try {
      expect(lstmWeights(otherSeed).kernel).not.toEqual(lstmWeights(trained).kernel);
    } finally {
      disposeLstm(otherSeed);
    }
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('exports three classes too', async () => {
    const bars = await readBarsFile(resolve(process.cwd(), '../shared/data/nse-daily/TCS.csv'), 'TCS');
    const { train: train3, test: test3 } = splitAtTime(standInSamples(bars, { timeSteps: 6, horizonBars: 1, flatBand: 0.005 }), CUT_MS);
    const model = await trainLstm(sliceDataset(train3.dataset, 0, 128), { units: 4, classes: 3, epochs: 1, batchSize: 64, seed: 3 });
    const session = await LstmOnnxPredictor.create(exportLstmToOnnx(model));
    try {
      const windows = sliceDataset(test3.dataset, 0, 40).sequences;
      const fromTfjs = predictWithTfjs(model, windows);
      const fromOnnx = await session.predict(windows);
      expect(session.classes).toBe(3);
      expect(fromOnnx.probabilities).toHaveLength(40 * 3);
      fromOnnx.probabilities.forEach((p, i) => expect(Math.abs(p - fromTfjs[i]!)).toBeLessThanOrEqual(TOLERANCE));
    } finally {
      await session.release();
      disposeLstm(model);
    }
  });

  it('refuses input of the wrong shape, a graph that is not an exported LSTM, and bad settings', async () => {
    expect(predictor.timeSteps).toBe(T);
    expect(predictor.features).toBe(4);
    await expect(predictor.predict(new Float32Array(T * 4 + 1))).rejects.toThrow(/multiple of 10 steps × 4 features/);
    const { onnx } = onnxProto;
    const identity = onnx.ModelProto.encode(
      onnx.ModelProto.create({
        irVersion: 8,
        opsetImport: [{ domain: '', version: 15 }],
        graph: {
          name: 'identity',
          node: [{ opType: 'Identity', input: ['x'], output: ['y'] }],
          input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }] } } } }],
          output: [{ name: 'y', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }] } } } }],
        },
      }),
    ).finish();
    await expect(LstmOnnxPredictor.create(identity)).rejects.toThrow(/not an exported LSTM: no tensor named features/);
    await expect(trainLstm(train, { units: 0 })).rejects.toThrow(/units must be a positive integer/);
    await expect(trainLstm(train, { classes: 1 })).rejects.toThrow(/classes must be/);
  });
});
