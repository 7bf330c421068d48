// scikit-learn's fitted `Tree` (sklearn/tree/_tree.pyx) as a TreeIR. Its pickle is
// `Tree(n_features, n_classes, n_outputs)` + state {max_depth, node_count, nodes, values}; `nodes`
// is a structured array of NODE_DTYPE records (left_child, right_child, feature, threshold,
// impurity, n_node_samples, weighted_n_node_samples, and since 1.3 missing_go_to_left), `values`
// is (node_count, n_outputs, max_n_classes). Leaves have left_child == -1 (TREE_LEAF).
// Prediction (Tree._apply_dense): X is float32; NaN follows missing_go_to_left (>= 1.3; before,
// NaN was rejected by input validation, and `NaN <= t` is false, i.e. right, which the default
// missing_go_to_left = 0 reproduces); otherwise left iff x <= threshold (double).
import { ModelFormatError } from '../../../errors/grove-error.js';
import { declaredCount } from '../../limits.js';
import { MISSING_NAN, type TreeIR } from '../../trees/tree-ir.js';
import { asNumber, asObject, isDict, type PyObject } from '../pickle/py-values.js';
import { ndarray } from './attributes.js';

export interface SklearnTree {
  nodeCount: number;
  left: Int32Array;
  right: Int32Array;
  feature: Int32Array;
  threshold: Float64Array;
  missingLeft: Uint8Array;
  /** values[(node * nOutputs + output) * maxClasses + class] */
  values: Float64Array;
  nOutputs: number;
  maxClasses: number;
  /** weighted_n_node_samples and impurity per node, when the records have them (explanations). */
  weighted: Float64Array | null;
  impurity: Float64Array | null;
}

function stateOf(tree: PyObject): (name: string) => unknown {
  const st = isDict(tree.state) ? tree.state : null;
  return (name) => (tree.dict.has(name) ? tree.dict.get(name) : st?.get(name));
}

/** Trees already read: a pickle's memo lets many estimators share one Tree object. */
const read = new WeakMap<PyObject, SklearnTree>();

export function readSklearnTree(v: unknown): SklearnTree {
  const tree = asObject(v, 'tree_');
  const done = read.get(tree);
  if (done) return done;
  const t = readTree(tree);
  read.set(tree, t);
  return t;
}

function readTree(tree: PyObject): SklearnTree {
  if (tree.shortName !== 'Tree') throw new ModelFormatError(`expected a sklearn Tree, got ${tree.className}`);
  const get = stateOf(tree);
  const nodes = ndarray(get('nodes'), 'Tree.nodes');
  const values = ndarray(get('values'), 'Tree.values');
  const nodeCount = declaredCount(
    asNumber(get('node_count') ?? nodes.size, 'Tree.node_count'),
    nodes.size,
    'Tree.node_count (at most the nodes present)',
  );
  const int32 = (name: string) => Int32Array.from(nodes.toFloat64(name).subarray(0, nodeCount));
  const left = int32('left_child');
  const right = int32('right_child');
  const feature = int32('feature');
  const threshold = nodes.toFloat64('threshold').slice(0, nodeCount);
  const missingLeft = new Uint8Array(nodeCount);
  if (nodes.dtype.field('missing_go_to_left'))
    missingLeft.set(nodes.toFloat64('missing_go_to_left').subarray(0, nodeCount));
  const shape = values.shape;
  const nOutputs = shape.length >= 2 ? shape[1]! : 1;
  const maxClasses = shape.length >= 3 ? shape[2]! : 1;
  if (nOutputs < 1 || maxClasses < 1) throw new ModelFormatError('Tree.values has an empty dimension');
  const vals = values.toFloat64();
  if (vals.length < nodeCount * nOutputs * maxClasses)
    throw new ModelFormatError('Tree.values is shorter than its nodes');
  for (let i = 0; i < nodeCount; i++) {
    const l = left[i]!;
    if (l >= 0 && (l >= nodeCount || right[i]! < 0 || right[i]! >= nodeCount || feature[i]! < 0)) {
      throw new ModelFormatError(`Tree node ${i} has invalid children or feature`);
    }
  }
  const optional = (name: string) =>
    nodes.dtype.field(name) ? nodes.toFloat64(name).slice(0, nodeCount) : null;
  const weighted = optional('weighted_n_node_samples');
  const impurity = optional('impurity');
  return {
    nodeCount,
    left,
    right,
    feature,
    threshold,
    missingLeft,
    values: vals,
    nOutputs,
    maxClasses,
    weighted,
    impurity,
  };
}

/** How a leaf's values become IR leaf values. */
export type LeafFn = (t: SklearnTree, node: number, out: Float64Array, at: number) => void;

/** Class distribution of output 0, normalised as predict_proba does (zero sums stay zero). */
export const probaLeaf =
  (nClasses: number): LeafFn =>
  (t, node, out, at) => {
    const base = node * t.nOutputs * t.maxClasses;
    let sum = 0;
    for (let k = 0; k < nClasses; k++) sum += t.values[base + k]!;
    const norm = sum === 0 ? 1 : sum;
    for (let k = 0; k < nClasses; k++) out[at + k] = t.values[base + k]! / norm;
  };

/** Regression values of every output (n_outputs wide). */
export const valueLeaf: LeafFn = (t, node, out, at) => {
  for (let o = 0; o < t.nOutputs; o++) out[at + o] = t.values[(node * t.nOutputs + o) * t.maxClasses]!;
};

/** `scale * value` (GradientBoosting's predict_stages adds learning_rate * tree value). */
export const scaledLeaf =
  (scale: number): LeafFn =>
  (t, node, out, at) => {
    out[at] = scale * t.values[node * t.nOutputs * t.maxClasses]!;
  };

export function treeToIR(t: SklearnTree, leafWidth: number, leaf: LeafFn): TreeIR {
  const n = t.nodeCount;
  const feature = new Int32Array(n);
  const threshold = new Float64Array(n);
  const leafValue = new Float64Array(n * leafWidth);
  // Plain loops: TypedArray.from with a map function walks the iterator protocol per element.
  const left = new Int32Array(n);
  const right = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (t.left[i]! >= 0) {
      left[i] = t.left[i]!;
      right[i] = t.right[i]!;
      feature[i] = t.feature[i]!;
      threshold[i] = t.threshold[i]!;
    } else {
      left[i] = -1;
      right[i] = -1;
      leaf(t, i, leafValue, i * leafWidth);
    }
  }
  const ir: TreeIR = {
    left,
    right,
    feature,
    threshold,
    defaultLeft: t.missingLeft.slice(),
    missingType: new Uint8Array(n).fill(MISSING_NAN),
    catOffset: new Int32Array(n).fill(-1),
    catWords: new Int32Array(n),
    catBits: new Uint32Array(0),
    leafValue,
  };
  addNodeStats(t, ir);
  return ir;
}

/**
 * Covers (weighted_n_node_samples, what TreeSHAP implementations weigh sklearn branches by) and
 * gains: the weighted impurity decrease of each split, as sklearn's feature_importances_ sums it
 * (_tree.pyx compute_feature_importances, before normalising).
 */
function addNodeStats(t: SklearnTree, ir: TreeIR): void {
  const w = t.weighted;
  if (!w) return;
  ir.cover = w.slice();
  const imp = t.impurity;
  if (!imp) return;
  const gain = new Float64Array(t.nodeCount);
  for (let i = 0; i < t.nodeCount; i++) {
    const l = t.left[i]!;
    if (l < 0) continue;
    const r = t.right[i]!;
    gain[i] = w[i]! * imp[i]! - w[l]! * imp[l]! - w[r]! * imp[r]!;
  }
  ir.gain = gain;
}
