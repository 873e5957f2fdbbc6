/** The LSTM direction classifier: training (tfjs, CPU), ONNX export and onnxruntime inference. */
export * from './dataset.js';
export * from './trainer.js';
export * from './onnx-export.js';
export * from './onnx-predictor.js';
export * from './stand-in-dataset.js';
