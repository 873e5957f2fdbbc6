/**
 * ONNX export of a trained forest: one `ai.onnx.ml` `TreeEnsembleClassifier` node with every
 * tree, written with `onnx-proto`, then `probabilities = votes / trees` (a `Div`).
 *
 * Exactness. ml-cart sends a row left when `x[column] < split` (a double, the midpoint of two
 * training values); ONNX compares float32. The model's inputs are float32 already (rows are
 * rounded before training, `src/ml/features.ts`), so each split is written as the smallest
 * float32 ≥ split, for which `x < t32 ⇔ x < split` holds for every float32 x: every tree
 * reaches the same leaf in both. A leaf votes 1 for its class (ml-cart's `maxRowIndex` of the
 * leaf distribution, first class on a tie), the ensemble sums the votes (exact small
 * integers in float32) and the `Div` gives round-to-float32(votes / trees), which is
 * `Math.fround` of the trainer's double ratio (one rounding of an exact quotient).
 * NaN never reaches the model (missing is `MISSING_VALUE`); if it did it would go right in
 * both (`NaN < t` is false; `nodes_missing_value_tracks_true` = 0).
 */
import onnxProto, { type onnx as OnnxTypes } from 'onnx-proto';
import type { TrainedForest } from './forest.js';

const { onnx } = onnxProto;

/** The graph's input name. */
export const FOREST_INPUT = 'features';

interface TreeArrays {
  treeIds: number[];
  nodeIds: number[];
  featureIds: number[];
  modes: string[];
  values: number[];
  trueIds: number[];
  falseIds: number[];
  classTreeIds: number[];
  classNodeIds: number[];
  classIds: number[];
  classWeights: number[];
}

const scratch = new Float32Array(1);
const scratchBits = new Int32Array(scratch.buffer);

/** The smallest float32 ≥ x (x finite). */
export function float32AtOrAbove(x: number): number {
  const f = Math.fround(x);
  if (f >= x) return f;
  if (f === 0) return Math.fround(1.401298464324817e-45);
  scratch[0] = f;
  scratchBits[0] = scratchBits[0]! + (f > 0 ? 1 : -1);
  return scratch[0];
}

/** A node of an ml-cart tree, read defensively (the library's internals are not typed). */
interface CartNode {
  readonly left?: unknown;
  readonly right?: unknown;
  readonly splitColumn?: unknown;
  readonly splitValue?: unknown;
  readonly distribution?: unknown;
}

function isObject(value: unknown): value is CartNode {
  return typeof value === 'object' && value !== null;
}

/** ml-cart's leaf vote: the first index of the largest value of the distribution row (`maxRowIndex(0)[1]`). */
function leafVote(node: CartNode): number {
  const distribution = node.distribution as { maxRowIndex?: (row: number) => [number, number] } | undefined;
  if (!distribution || typeof distribution.maxRowIndex !== 'function')
    throw new Error('ONNX export: a leaf has no class distribution (not an ml-cart classifier tree?)');
  return distribution.maxRowIndex(0)[1];
}

function addTree(arrays: TreeArrays, treeId: number, root: unknown, columns: readonly number[], classCount: number): void {
  let nextId = 0;
  const visit = (node: unknown): number => {
    if (!isObject(node)) throw new Error('ONNX export: a tree node is not an object');
    const id = nextId++;
    arrays.treeIds.push(treeId);
    arrays.nodeIds.push(id);
    const at = arrays.modes.length;
    if (isObject(node.left) && isObject(node.right)) {
      const column = node.splitColumn;
      const split = node.splitValue;
      if (typeof column !== 'number' || typeof split !== 'number' || !Number.isFinite(split))
        throw new Error('ONNX export: a split node has no column or value');
      const feature = columns[column];
      if (feature === undefined) throw new Error(`ONNX export: split column ${column} is outside the tree's ${columns.length} features`);
      arrays.featureIds.push(feature);
      arrays.modes.push('BRANCH_LT');
      arrays.values.push(float32AtOrAbove(split));
      arrays.trueIds.push(0);
      arrays.falseIds.push(0);
      arrays.trueIds[at] = visit(node.left);
      arrays.falseIds[at] = visit(node.right);
    } else {
      arrays.featureIds.push(0);
      arrays.modes.push('LEAF');
      arrays.values.push(0);
      arrays.trueIds.push(0);
      arrays.falseIds.push(0);
      // a weight for every class (0 but the vote): onnxruntime treats a two-class ensemble in
      // which a class has no score as a binary one-score model and rewrites the scores
      const vote = leafVote(node);
      for (let classId = 0; classId < classCount; classId++) {
        arrays.classTreeIds.push(treeId);
        arrays.classNodeIds.push(id);
        arrays.classIds.push(classId);
        arrays.classWeights.push(classId === vote ? 1 : 0);
      }
    }
    return id;
  };
  visit(root);
}

/** Metadata stored in the ONNX file (`metadata_props`). */
export interface OnnxMetadata {
  readonly [key: string]: string;
}

const encoder = new TextEncoder();

function ints(name: string, values: readonly number[]): OnnxTypes.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: [...values] };
}
function floats(name: string, values: readonly number[]): OnnxTypes.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.FLOATS, floats: [...values] };
}
function strings(name: string, values: readonly string[]): OnnxTypes.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.STRINGS, strings: values.map((value) => encoder.encode(value)) };
}

function tensorInfo(name: string, elemType: number, dims: readonly (number | string)[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })) } } },
  };
}

/** The forest as ONNX bytes: input `features` float [N, F]; outputs `label` int64 [N], `probabilities` float [N, C]. */
export function forestToOnnx(trained: TrainedForest, metadata: OnnxMetadata = {}): Uint8Array {
  const { forest, classCount, featureCount } = trained;
  const estimators = forest.estimators as unknown;
  const indexes = forest.indexes as unknown;
  if (!Array.isArray(estimators) || !Array.isArray(indexes) || estimators.length !== indexes.length) throw new Error('ONNX export: the forest is not trained');
  const arrays: TreeArrays = {
    treeIds: [],
    nodeIds: [],
    featureIds: [],
    modes: [],
    values: [],
    trueIds: [],
    falseIds: [],
    classTreeIds: [],
    classNodeIds: [],
    classIds: [],
    classWeights: [],
  };
  estimators.forEach((estimator: unknown, treeId) => {
    const columns = indexes[treeId] as unknown;
    if (!isObject(estimator) || !Array.isArray(columns) || !columns.every((c) => Number.isSafeInteger(c)))
      throw new Error(`ONNX export: tree ${treeId} is malformed`);
    addTree(arrays, treeId, (estimator as { root?: unknown }).root, columns as number[], classCount);
  });

  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const INT64 = onnx.TensorProto.DataType.INT64;
  const ensemble: OnnxTypes.INodeProto = {
    name: 'forest',
    opType: 'TreeEnsembleClassifier',
    domain: 'ai.onnx.ml',
    input: [FOREST_INPUT],
    output: ['label', 'votes'],
    attribute: [
      ints(
        'classlabels_int64s',
        Array.from({ length: classCount }, (_, i) => i),
      ),
      ints('nodes_treeids', arrays.treeIds),
      ints('nodes_nodeids', arrays.nodeIds),
      ints('nodes_featureids', arrays.featureIds),
      strings('nodes_modes', arrays.modes),
      floats('nodes_values', arrays.values),
      ints('nodes_truenodeids', arrays.trueIds),
      ints('nodes_falsenodeids', arrays.falseIds),
      ints(
        'nodes_missing_value_tracks_true',
        arrays.modes.map(() => 0),
      ),
      ints('class_treeids', arrays.classTreeIds),
      ints('class_nodeids', arrays.classNodeIds),
      ints('class_ids', arrays.classIds),
      floats('class_weights', arrays.classWeights),
      { name: 'post_transform', type: onnx.AttributeProto.AttributeType.STRING, s: encoder.encode('NONE') },
    ],
  };
  const divide: OnnxTypes.INodeProto = { name: 'votes_to_probabilities', opType: 'Div', input: ['votes', 'tree_count'], output: ['probabilities'] };
  const model: OnnxTypes.IModelProto = {
    irVersion: 8,
    producerName: 'troupe',
    producerVersion: '1',
    domain: 'in.troupe.ml',
    modelVersion: 1,
    docString: `Random Forest (ml-random-forest), ${estimators.length} trees, ${featureCount} features, ${classCount} classes; probabilities = votes / trees`,
    opsetImport: [
      { domain: '', version: 15 },
      { domain: 'ai.onnx.ml', version: 3 },
    ],
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: 'random_forest',
      node: [ensemble, divide],
      initializer: [{ name: 'tree_count', dataType: FLOAT, dims: [], floatData: [estimators.length] }],
      input: [tensorInfo(FOREST_INPUT, FLOAT, ['N', featureCount])],
      output: [tensorInfo('label', INT64, ['N']), tensorInfo('probabilities', FLOAT, ['N', classCount])],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}
