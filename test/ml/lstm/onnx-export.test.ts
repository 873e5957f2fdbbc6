/**
 * The Keras → ONNX LSTM weight mapping, checked against the two layouts as the specs state
 * them (written out here as gate letters, not taken from the code under test).
 */
import { describe, expect, it } from 'vitest';
import { kerasToOnnxLstmWeights } from '../../../src/ml/lstm/onnx-export.js';

// Keras: kernel [F, 4H], columns in gate blocks i, f, c, o. ONNX: W [4H, F], rows in blocks i, o, f, c.
const KERAS_GATES = ['i', 'f', 'c', 'o'];
const ONNX_GATES = ['i', 'o', 'f', 'c'];

/** A value that names its place: gate g, unit j, input k (and which matrix). */
const code = (matrix: number, gate: string, unit: number, input: number): number => matrix * 10_000 + 'ifco'.indexOf(gate) * 1_000 + unit * 10 + input;

describe('kerasToOnnxLstmWeights', () => {
  const hidden = 3;
  const inputs = 2;
  const kernel = new Float32Array(inputs * 4 * hidden);
  const recurrentKernel = new Float32Array(hidden * 4 * hidden);
  const bias = new Float32Array(4 * hidden);
  KERAS_GATES.forEach((gate, block) => {
    for (let j = 0; j < hidden; j += 1) {
      const column = block * hidden + j;
      for (let k = 0; k < inputs; k += 1) kernel[k * 4 * hidden + column] = code(1, gate, j, k);
      for (let k = 0; k < hidden; k += 1) recurrentKernel[k * 4 * hidden + column] = code(2, gate, j, k);
      bias[column] = code(3, gate, j, 0);
    }
  });
  const { w, r, b } = kerasToOnnxLstmWeights(kernel, recurrentKernel, bias, hidden);

  it('puts each gate where ONNX expects it, transposed', () => {
    expect(w).toHaveLength(4 * hidden * inputs);
    expect(r).toHaveLength(4 * hidden * hidden);
    ONNX_GATES.forEach((gate, block) => {
      for (let j = 0; j < hidden; j += 1) {
        const row = block * hidden + j;
        for (let k = 0; k < inputs; k += 1) expect(w[row * inputs + k]).toBe(code(1, gate, j, k));
        for (let k = 0; k < hidden; k += 1) expect(r[row * hidden + k]).toBe(code(2, gate, j, k));
      }
    });
  });

  it('puts the single tfjs bias in Wb and zeros in Rb', () => {
    expect(b).toHaveLength(8 * hidden);
    ONNX_GATES.forEach((gate, block) => {
      for (let j = 0; j < hidden; j += 1) expect(b[block * hidden + j]).toBe(code(3, gate, j, 0));
    });
    expect([...b.subarray(4 * hidden)]).toEqual(new Array<number>(4 * hidden).fill(0));
  });

  it('refuses weights of inconsistent sizes', () => {
    expect(() => kerasToOnnxLstmWeights(kernel, recurrentKernel, bias.subarray(1), hidden)).toThrow(/bias has/);
    expect(() => kerasToOnnxLstmWeights(kernel.subarray(1), recurrentKernel, bias, hidden)).toThrow(/kernel has/);
    expect(() => kerasToOnnxLstmWeights(kernel, recurrentKernel.subarray(1), bias, hidden)).toThrow(/recurrent kernel/);
  });
});
