/**
 * Runs an exported LSTM (see `onnx-export.ts`) with onnxruntime-node on the CPU: raw feature
 * windows in, class probabilities and labels out. One session per model; `predict` takes a
 * batch (one window per symbol, say) in a single call.
 */
import * as ort from 'onnxruntime-node';
import { LSTM_ONNX_INPUT, LSTM_ONNX_LABEL, LSTM_ONNX_PROBABILITIES } from './onnx-export.js';

/** A batch of predictions. */
export interface LstmPredictions {
  /** [batch, classes], row-major. */
  readonly probabilities: Float32Array;
  /** Most probable class of each window. */
  readonly labels: Int32Array;
}

/** Options of {@link LstmOnnxPredictor.create}. */
export interface LstmOnnxPredictorOptions {
  /**
   * Threads onnxruntime may use inside one run. Default 1: a 16-unit LSTM is too small to gain
   * from more, and the actor tree keeps the other cores.
   */
  readonly intraOpThreads?: number;
}

/** An onnxruntime session over an exported LSTM. Call {@link release} when done. */
export class LstmOnnxPredictor {
  private constructor(
    private readonly session: ort.InferenceSession,
    /** Bars per window the model was trained on. */
    readonly timeSteps: number,
    /** Features per bar. */
    readonly features: number,
    readonly classes: number,
  ) {}

  /**
   * Loads a model from its ONNX bytes. The window shape [batch, T, F] and the class count are
   * read from the graph's declared input and output; a graph that is not an exported LSTM
   * (other names, or no fixed T, F, classes) is refused with an error that says why.
   */
  static async create(onnxBytes: Uint8Array, options: LstmOnnxPredictorOptions = {}): Promise<LstmOnnxPredictor> {
    const session = await ort.InferenceSession.create(onnxBytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: options.intraOpThreads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    try {
      const input = tensorShape(session.inputMetadata, LSTM_ONNX_INPUT);
      const probabilities = tensorShape(session.outputMetadata, LSTM_ONNX_PROBABILITIES);
      tensorShape(session.outputMetadata, LSTM_ONNX_LABEL);
      const [, timeSteps, features] = input;
      const [, classes] = probabilities;
      if (input.length !== 3 || typeof timeSteps !== 'number' || typeof features !== 'number') {
        throw new Error(`not an exported LSTM: input ${LSTM_ONNX_INPUT} has shape [${input.join(', ')}], expected [batch, T, F]`);
      }
      if (probabilities.length !== 2 || typeof classes !== 'number') {
        throw new Error(`not an exported LSTM: output ${LSTM_ONNX_PROBABILITIES} has shape [${probabilities.join(', ')}], expected [batch, classes]`);
      }
      return new LstmOnnxPredictor(session, timeSteps, features, classes);
    } catch (error) {
      await session.release();
      throw error;
    }
  }

  /** Predicts for raw feature windows [batch, T, F] (row-major, oldest step first). */
  async predict(sequences: Float32Array): Promise<LstmPredictions> {
    const stride = this.timeSteps * this.features;
    if (sequences.length === 0 || sequences.length % stride !== 0) {
      throw new RangeError(`expected a non-empty multiple of ${this.timeSteps} steps × ${this.features} features, got ${sequences.length} values`);
    }
    const batch = sequences.length / stride;
    const input = new ort.Tensor('float32', sequences, [batch, this.timeSteps, this.features]);
    const outputs = await this.session.run({ [LSTM_ONNX_INPUT]: input });
    const probabilities = outputs[LSTM_ONNX_PROBABILITIES]?.data;
    const labels = outputs[LSTM_ONNX_LABEL]?.data;
    if (!(probabilities instanceof Float32Array) || !(labels instanceof BigInt64Array)) throw new Error('the LSTM model returned outputs of unexpected types');
    return { probabilities, labels: Int32Array.from(labels, Number) };
  }

  /** Frees the native session. */
  async release(): Promise<void> {
    await this.session.release();
  }
}

/** The declared shape of the named tensor; throws when the graph has no such tensor. */
function tensorShape(values: readonly ort.InferenceSession.ValueMetadata[], name: string): ReadonlyArray<number | string> {
  const value = values.find((candidate) => candidate.name === name);
  if (!value?.isTensor) throw new Error(`not an exported LSTM: no tensor named ${name} (has ${values.map((candidate) => candidate.name).join(', ')})`);
  return value.shape;
}
