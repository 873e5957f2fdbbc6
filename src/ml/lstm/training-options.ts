/**
 * The LSTM's hyper-parameters and their defaults, apart from the trainer so that what only needs
 * the settings (the retrainer, the CLI) does not load `@tensorflow/tfjs`.
 */

/** Hyper-parameters of the network and its training. */
export interface LstmConfig {
  /** Hidden units of the LSTM layer (H). */
  readonly units: number;
  /** Output classes (2: down/up; 3: down/flat/up). */
  readonly classes: number;
  readonly epochs: number;
  readonly batchSize: number;
  /** Adam's learning rate. */
  readonly learningRate: number;
  /** Seeds the initialisers and the per-epoch shuffle. */
  readonly seed: number;
}

/** Defaults: a small network that trains in seconds on a few thousand windows. */
export const DEFAULT_LSTM_CONFIG: LstmConfig = {
  units: 16,
  classes: 2,
  epochs: 20,
  batchSize: 64,
  learningRate: 0.005,
  seed: 42,
};

/** The network and how much of the data trains it. */
export interface LstmTrainingOptions {
  /** Bars per window (the model's lookback). */
  readonly timeSteps: number;
  readonly units: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly seed: number;
  /** At most this many training windows (a seeded subset, kept in time order). */
  readonly maxTrainingRows: number;
}

/** Defaults: 16 bars of the 76 features, 16 units, 10 epochs over at most 2000 windows (tens of seconds). */
export const DEFAULT_LSTM_TRAINING: LstmTrainingOptions = {
  timeSteps: 16,
  units: DEFAULT_LSTM_CONFIG.units,
  epochs: 10,
  batchSize: DEFAULT_LSTM_CONFIG.batchSize,
  learningRate: DEFAULT_LSTM_CONFIG.learningRate,
  seed: DEFAULT_LSTM_CONFIG.seed,
  maxTrainingRows: 2000,
};
