/**
 * Writes a trained LSTM as an ONNX model (opset 15, IR 8) with the standard operators, so
 * onnxruntime runs it without custom kernels:
 *
 *   features [batch, T, F] ─Sub(mean)─Div(scale)─Transpose(1,0,2)─► [T, batch, F]
 *     ─LSTM(W, R, B; hidden_size H)─► Y_h [1, batch, H] ─Squeeze(0)─► [batch, H]
 *     ─Gemm(dense kernel, dense bias)─► logits ─Softmax(axis 1)─► probabilities [batch, C]
 *                                                  └─ArgMax(axis 1)─► label [batch] (int64)
 *
 * Gate order: Keras/tfjs stores the four gates as column blocks [i, f, c, o] of kernels that
 * multiply from the right (x · kernel); ONNX's LSTM stores them as row blocks [i, o, f, c] of
 * W and R that multiply transposed (x · Wᵀ). So block g of W is the transpose of the Keras
 * block `KERAS_BLOCK_OF_ONNX_GATE[g]`. tfjs has one bias; it goes to Wb, Rb is zeros.
 * The input is batch-major; ONNX's default layout is sequence-major and onnxruntime's CPU LSTM
 * refuses `layout = 1`, hence the Transpose.
 */
import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';
import { lstmWeights, type TrainedLstm } from './trainer.js';

const { onnx } = onnxProto;

/** The opset the graph is written for (LSTM-14, Softmax-13, Squeeze-13 with axes as an input). */
export const LSTM_ONNX_OPSET = 15;
/** Names of the graph's input and outputs. */
export const LSTM_ONNX_INPUT = 'features';
export const LSTM_ONNX_PROBABILITIES = 'probabilities';
export const LSTM_ONNX_LABEL = 'label';

/** ONNX gate order i, o, f, c → the index of the same gate in Keras's i, f, c, o. */
export const KERAS_BLOCK_OF_ONNX_GATE = [0, 3, 1, 2] as const;

/** The LSTM operator's weight tensors in ONNX layout (one direction). */
export interface OnnxLstmWeights {
  /** W [1, 4H, F], gates i, o, f, c. */
  readonly w: Float32Array;
  /** R [1, 4H, H], gates i, o, f, c. */
  readonly r: Float32Array;
  /** B [1, 8H]: Wb (the tfjs bias, reordered) then Rb (zeros). */
  readonly b: Float32Array;
}

/**
 * Reorders Keras LSTM weights (kernel [F, 4H], recurrent kernel [H, 4H], bias [4H], gates
 * i, f, c, o) into ONNX's W, R, B (gates i, o, f, c, transposed).
 */
export function kerasToOnnxLstmWeights(kernel: Float32Array, recurrentKernel: Float32Array, bias: Float32Array, units: number): OnnxLstmWeights {
  const hidden = units;
  const gates = 4 * hidden;
  if (bias.length !== gates) throw new RangeError(`bias has ${bias.length} values, expected 4 × ${hidden}`);
  if (kernel.length % gates !== 0) throw new RangeError(`kernel has ${kernel.length} values, not a multiple of 4 × ${hidden}`);
  if (recurrentKernel.length !== hidden * gates) throw new RangeError(`recurrent kernel has ${recurrentKernel.length} values, expected ${hidden} × ${gates}`);
  const inputs = kernel.length / gates;
  const w = new Float32Array(gates * inputs);
  const r = new Float32Array(gates * hidden);
  const b = new Float32Array(2 * gates);
  KERAS_BLOCK_OF_ONNX_GATE.forEach((kerasBlock, onnxBlock) => {
    for (let j = 0; j < hidden; j += 1) {
      const onnxRow = onnxBlock * hidden + j;
      const kerasColumn = kerasBlock * hidden + j;
      for (let k = 0; k < inputs; k += 1) w[onnxRow * inputs + k] = kernel[k * gates + kerasColumn]!;
      for (let k = 0; k < hidden; k += 1) r[onnxRow * hidden + k] = recurrentKernel[k * gates + kerasColumn]!;
      b[onnxRow] = bias[kerasColumn]!;
    }
  });
  return { w, r, b };
}

function floatTensor(name: string, dims: readonly number[], values: Float32Array): Onnx.ITensorProto {
  // raw little-endian bytes: exact float32 values, compact.
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((value, index) => view.setFloat32(index * 4, value, true));
  return { name, dims: [...dims], dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytes };
}

function int64Tensor(name: string, values: readonly number[]): Onnx.ITensorProto {
  return { name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: [...values] };
}

const intAttribute = (name: string, value: number): Onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i: value });
const intsAttribute = (name: string, values: readonly number[]): Onnx.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.INTS,
  ints: [...values],
});
const textBytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const stringAttribute = (name: string, value: string): Onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.STRING, s: textBytes(value) });
const stringsAttribute = (name: string, values: readonly string[]): Onnx.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.STRINGS,
  strings: values.map(textBytes),
});

function tensorValue(name: string, elemType: number, dims: readonly (number | string)[]): Onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })) },
      },
    },
  };
}

/** Metadata written into the model (`metadata_props`), for the registry and the loader to check. */
export interface LstmOnnxMetadata {
  readonly [key: string]: string;
}

/**
 * The exported model as ONNX protobuf bytes. `metadata` adds `metadata_props` entries (it cannot
 * replace kind, time_steps, features, units, classes).
 */
export function exportLstmToOnnx(trained: TrainedLstm, metadata: LstmOnnxMetadata = {}): Uint8Array {
  const { units: hidden, classes } = trained.config;
  const { timeSteps, features } = trained;
  const weights = lstmWeights(trained);
  const { w, r, b } = kerasToOnnxLstmWeights(weights.kernel, weights.recurrentKernel, weights.bias, hidden);

  const initializer: Onnx.ITensorProto[] = [
    floatTensor('standardiser_mean', [features], trained.standardiser.mean),
    floatTensor('standardiser_scale', [features], trained.standardiser.scale),
    floatTensor('lstm_W', [1, 4 * hidden, features], w),
    floatTensor('lstm_R', [1, 4 * hidden, hidden], r),
    floatTensor('lstm_B', [1, 8 * hidden], b),
    int64Tensor('squeeze_axes', [0]),
    floatTensor('dense_kernel', [hidden, classes], weights.denseKernel),
    floatTensor('dense_bias', [classes], weights.denseBias),
  ];
  const node: Onnx.INodeProto[] = [
    { opType: 'Sub', name: 'centre', input: [LSTM_ONNX_INPUT, 'standardiser_mean'], output: ['centred'] },
    { opType: 'Div', name: 'scale', input: ['centred', 'standardiser_scale'], output: ['standardised'] },
    { opType: 'Transpose', name: 'sequence_major', input: ['standardised'], output: ['sequence_major'], attribute: [intsAttribute('perm', [1, 0, 2])] },
    {
      opType: 'LSTM',
      name: 'lstm',
      input: ['sequence_major', 'lstm_W', 'lstm_R', 'lstm_B'],
      // Y (every step's hidden state) is not needed: '' leaves it out; Y_h is the last step's.
      output: ['', 'lstm_last_hidden'],
      attribute: [intAttribute('hidden_size', hidden), stringAttribute('direction', 'forward'), stringsAttribute('activations', ['Sigmoid', 'Tanh', 'Tanh'])],
    },
    { opType: 'Squeeze', name: 'drop_direction', input: ['lstm_last_hidden', 'squeeze_axes'], output: ['hidden'] },
    { opType: 'Gemm', name: 'dense', input: ['hidden', 'dense_kernel', 'dense_bias'], output: ['logits'] },
    { opType: 'Softmax', name: 'softmax', input: ['logits'], output: [LSTM_ONNX_PROBABILITIES], attribute: [intAttribute('axis', 1)] },
    {
      opType: 'ArgMax',
      name: 'argmax',
      input: [LSTM_ONNX_PROBABILITIES],
      output: [LSTM_ONNX_LABEL],
      attribute: [intAttribute('axis', 1), intAttribute('keepdims', 0)],
    },
  ];
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const INT64 = onnx.TensorProto.DataType.INT64;
  const model = onnx.ModelProto.create({
    irVersion: onnx.Version.IR_VERSION,
    opsetImport: [{ domain: '', version: LSTM_ONNX_OPSET }],
    producerName: 'troupe',
    producerVersion: '1',
    docString: `LSTM classifier: ${timeSteps} steps × ${features} features → LSTM(${hidden}) → Dense(${classes}) softmax`,
    metadataProps: Object.entries({
      ...metadata,
      kind: 'lstm',
      time_steps: String(timeSteps),
      features: String(features),
      units: String(hidden),
      classes: String(classes),
    }).map(([key, value]) => ({ key, value })),
    graph: {
      name: 'troupe_lstm',
      initializer,
      node,
      input: [tensorValue(LSTM_ONNX_INPUT, FLOAT, ['batch', timeSteps, features])],
      output: [tensorValue(LSTM_ONNX_PROBABILITIES, FLOAT, ['batch', classes]), tensorValue(LSTM_ONNX_LABEL, INT64, ['batch'])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
