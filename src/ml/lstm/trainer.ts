/**
 * Trains the LSTM classifier with @tensorflow/tfjs on its pure-JS CPU backend: one LSTM layer
 * over a window of T bars × F features, its last hidden state into a Dense softmax over the
 * classes. Deterministic: seeded initialisers, a seeded shuffle per epoch (never tfjs's own,
 * which draws from Math.random), no dropout, and a CPU backend that runs one thread in a fixed
 * order — two runs with the same data and seed give bit-identical weights (tested).
 */
import * as tf from '@tensorflow/tfjs';
import {
  assertSequenceDataset,
  fitStandardiser,
  permutation,
  sampleCount,
  seededRandom,
  standardise,
  type SequenceDataset,
  type Standardiser,
} from './dataset.js';
import { DEFAULT_LSTM_CONFIG, type LstmConfig } from './training-options.js';

/** Reported after each epoch. */
export interface LstmEpochProgress {
  /** 1-based. */
  readonly epoch: number;
  readonly epochs: number;
  /** Mean training cross-entropy over the epoch's batches. */
  readonly loss: number;
  readonly elapsedMs: number;
}

/** A trained network with what its export and its predictions need. */
export interface TrainedLstm {
  readonly kind: 'lstm';
  readonly config: LstmConfig;
  readonly timeSteps: number;
  readonly features: number;
  /** Fitted on the training rows; applied before the network (and inside the ONNX graph). */
  readonly standardiser: Standardiser;
  /** The tfjs network; it takes standardised input. Dispose with {@link disposeLstm}. */
  readonly network: tf.LayersModel;
  readonly lossByEpoch: readonly number[];
  readonly trainingMs: number;
}

let backendReady: Promise<void> | undefined;

/**
 * Selects the CPU backend once. tfjs warns on its first tensor in Node that tfjs-node would be
 * faster; that package downloads a native binary at install, which does not work here, so the
 * warning is silenced (production mode only turns off such warnings and debug checks).
 */
function ensureCpuBackend(): Promise<void> {
  backendReady ??= (async () => {
    tf.env().set('PROD', true);
    await tf.setBackend('cpu');
    await tf.ready();
  })();
  return backendReady;
}

/** Builds the (untrained) network: LSTM(units, tanh, sigmoid gates) → Dense(classes, softmax). */
export function buildLstmNetwork(config: LstmConfig, timeSteps: number, features: number): tf.Sequential {
  const network = tf.sequential();
  // tidy: tfjs's unit-forget-bias initialiser leaks its four temporaries (variables survive tidy).
  tf.tidy(() => {
    addLayers(network, config, timeSteps, features);
  });
  network.compile({ optimizer: tf.train.adam(config.learningRate), loss: 'categoricalCrossentropy' });
  return network;
}

function addLayers(network: tf.Sequential, config: LstmConfig, timeSteps: number, features: number): void {
  network.add(
    tf.layers.lstm({
      units: config.units,
      inputShape: [timeSteps, features],
      activation: 'tanh',
      // tfjs defaults to hardSigmoid (old Keras); ONNX's LSTM uses the logistic sigmoid.
      recurrentActivation: 'sigmoid',
      kernelInitializer: tf.initializers.glorotUniform({ seed: config.seed }),
      recurrentInitializer: tf.initializers.orthogonal({ seed: config.seed + 1, gain: 1 }),
      biasInitializer: tf.initializers.zeros(),
      unitForgetBias: true,
      returnSequences: false,
    }),
  );
  network.add(
    tf.layers.dense({
      units: config.classes,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: config.seed + 2 }),
      biasInitializer: tf.initializers.zeros(),
    }),
  );
}

function assertConfig(config: LstmConfig): void {
  const positiveIntegers: (keyof LstmConfig)[] = ['units', 'epochs', 'batchSize'];
  for (const key of positiveIntegers) {
    if (!Number.isInteger(config[key]) || config[key] < 1) throw new RangeError(`${key} must be a positive integer, got ${config[key]}`);
  }
  if (!Number.isInteger(config.classes) || config.classes < 2) throw new RangeError(`classes must be an integer ≥ 2, got ${config.classes}`);
  if (!(config.learningRate > 0)) throw new RangeError(`learningRate must be positive, got ${config.learningRate}`);
  if (!Number.isInteger(config.seed)) throw new RangeError(`seed must be an integer, got ${config.seed}`);
}

/**
 * Trains on `dataset` (raw features; the standardiser is fitted here). Yields to the event
 * loop after every batch, so a caller on the main thread stays responsive, though training
 * belongs in a worker. `onEpoch` is called after each epoch.
 */
export async function trainLstm(
  dataset: SequenceDataset,
  overrides: Partial<LstmConfig> = {},
  onEpoch?: (progress: LstmEpochProgress) => void,
): Promise<TrainedLstm> {
  const config: LstmConfig = { ...DEFAULT_LSTM_CONFIG, ...overrides };
  assertConfig(config);
  assertSequenceDataset(dataset, config.classes);
  await ensureCpuBackend();
  const startMs = performance.now();
  const { timeSteps, features } = dataset;
  const standardiser = fitStandardiser(dataset);
  const inputs = standardise(dataset.sequences, standardiser);
  const samples = sampleCount(dataset);
  const stride = timeSteps * features;
  const network = buildLstmNetwork(config, timeSteps, features);
  const random = seededRandom(config.seed);
  const lossByEpoch: number[] = [];
  try {
    for (let epoch = 1; epoch <= config.epochs; epoch += 1) {
      const order = permutation(samples, random);
      let lossSum = 0;
      let batches = 0;
      for (let start = 0; start < samples; start += config.batchSize) {
        const size = Math.min(config.batchSize, samples - start);
        const x = new Float32Array(size * stride);
        const y = new Float32Array(size * config.classes);
        for (let k = 0; k < size; k += 1) {
          const n = order[start + k]!;
          x.set(inputs.subarray(n * stride, (n + 1) * stride), k * stride);
          y[k * config.classes + dataset.labels[n]!] = 1;
        }
        const xs = tf.tensor3d(x, [size, timeSteps, features]);
        const ys = tf.tensor2d(y, [size, config.classes]);
        try {
          const loss = await network.trainOnBatch(xs, ys);
          lossSum += typeof loss === 'number' ? loss : (loss[0] ?? Number.NaN);
        } finally {
          xs.dispose();
          ys.dispose();
        }
        batches += 1;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      const loss = lossSum / batches;
      if (!Number.isFinite(loss)) throw new Error(`LSTM training diverged at epoch ${epoch} (loss ${loss}); lower the learning rate`);
      lossByEpoch.push(loss);
      onEpoch?.({ epoch, epochs: config.epochs, loss, elapsedMs: performance.now() - startMs });
    }
  } catch (error) {
    disposeNetwork(network);
    throw error;
  }
  return { kind: 'lstm', config, timeSteps, features, standardiser, network, lossByEpoch, trainingMs: performance.now() - startMs };
}

/**
 * Class probabilities from the tfjs network for raw feature windows [N, T, F] (standardised
 * here the same way as in training): a Float32Array [N, classes], row-major.
 */
export function predictWithTfjs(trained: TrainedLstm, sequences: Float32Array): Float32Array {
  const stride = trained.timeSteps * trained.features;
  if (sequences.length % stride !== 0) throw new RangeError(`sequences length ${sequences.length} is not a multiple of T × F = ${stride}`);
  const samples = sequences.length / stride;
  return tf.tidy(() => {
    const xs = tf.tensor3d(standardise(sequences, trained.standardiser), [samples, trained.timeSteps, trained.features]);
    const output = trained.network.predict(xs);
    if (Array.isArray(output)) throw new Error('the LSTM network has one output');
    return output.dataSync() as Float32Array;
  });
}

/** The network's weights as tfjs holds them (Keras layout, gates i, f, c, o). */
export interface LstmWeights {
  /** [F, 4H]. */
  readonly kernel: Float32Array;
  /** [H, 4H]. */
  readonly recurrentKernel: Float32Array;
  /** [4H]. */
  readonly bias: Float32Array;
  /** [H, classes]. */
  readonly denseKernel: Float32Array;
  /** [classes]. */
  readonly denseBias: Float32Array;
}

/** Reads the trained weights (copies) in the order the layers hold them. */
export function lstmWeights(trained: TrainedLstm): LstmWeights {
  const values = trained.network.getWeights().map((weight) => weight.dataSync() as Float32Array);
  const [kernel, recurrentKernel, bias, denseKernel, denseBias] = values;
  if (!kernel || !recurrentKernel || !bias || !denseKernel || !denseBias || values.length !== 5) {
    throw new Error(`expected 5 weight tensors (LSTM kernel, recurrent kernel, bias; Dense kernel, bias), got ${values.length}`);
  }
  const { units, classes } = trained.config;
  const expected = [trained.features * 4 * units, units * 4 * units, 4 * units, units * classes, classes];
  values.forEach((value, index) => {
    if (value.length !== expected[index]) throw new Error(`weight ${index} has ${value.length} values, expected ${expected[index]}`);
  });
  return { kernel, recurrentKernel, bias, denseKernel, denseBias };
}

/** Frees the tfjs network's tensors, its optimizer's state included. */
export function disposeLstm(trained: TrainedLstm): void {
  disposeNetwork(trained.network);
}

/** A model compiled with an optimizer instance (not a name) does not own it: dispose both. */
function disposeNetwork(network: tf.LayersModel): void {
  const optimizer: tf.Optimizer | undefined = network.optimizer;
  network.dispose();
  optimizer?.dispose();
}
