// LightGBM text models (`save_model`, the CLI's `output_model`), read into the tree IR with LightGBM
// 4.x's prediction semantics (include/LightGBM/tree.h):
// - `decision_type` bits: 1 = categorical, 2 = default left, bits 2-3 = missing type
//   (0 None: NaN is read as 0; 1 Zero: NaN and |x| <= kZeroThreshold take the default side;
//   2 NaN: NaN takes the default side) — Tree::NumericalDecision;
// - numeric nodes go left iff `x <= threshold`, thresholds and sums in double;
// - categorical nodes (CategoricalDecision): NaN goes right, (int)x < 0 goes right, otherwise left
//   iff bit (int)x is set in the node's `cat_threshold` words (`cat_boundaries` slice);
// - LightGBM node numbering: internal nodes 0..num_leaves-2, a child < 0 is leaf ~child; here
//   leaves follow the internal nodes (leaf j is node num_leaves-1+j);
// - tree i adds to class i % num_tree_per_iteration; `average_output` (random forest) divides by
//   the number of iterations; objectives map to output transforms as each ConvertOutput does;
// - linear trees (`is_linear=1`, trained with `linear_tree=true`): each leaf also carries
//   `leaf_const`, `num_features`, `leaf_features` and `leaf_coeff` (read into TreeIR.linear, whose
//   comment gives Tree::Predict's rule).

import { fileText } from '../../errors/file-text.js';
import { ModelFormatError, TruncatedModelError, UnknownObjectiveError } from '../../errors/grove-error.js';
import { declaredCount, LIMITS } from '../limits.js';
import {
  MISSING_NAN,
  MISSING_NONE,
  MISSING_ZERO,
  type TransformName,
  type TreeEnsembleIR,
  type TreeIR,
} from '../trees/tree-ir.js';
import { plainDecimals } from './decimal-list.js';
import { allocTree, checkTreeShape } from './tree-shape.js';

type Block = Map<string, string>;

interface LgbObjective {
  transform: TransformName;
  task: TreeEnsembleIR['task'];
  sigmoid: number;
}

/** `objective=` line -> transform. Regression objectives may carry ` sqrt` (sign(x) * x^2 output). */
export function lightgbmObjective(line: string): LgbObjective {
  const parts = line.trim().split(/\s+/);
  const name = parts[0] ?? '';
  const opts = new Map<string, string>();
  for (const p of parts.slice(1)) {
    const i = p.indexOf(':');
    opts.set(i < 0 ? p : p.slice(0, i), i < 0 ? '' : p.slice(i + 1));
  }
  const sigmoid = opts.has('sigmoid') ? Number(opts.get('sigmoid')) : 1;
  if (!(sigmoid > 0))
    throw new ModelFormatError(`LightGBM model: bad sigmoid coefficient in objective ${fileText(line)}`);
  const sqrt = opts.has('sqrt');
  switch (name) {
    case 'binary':
      return { transform: 'sigmoid', task: 'binary', sigmoid };
    case 'multiclass':
    case 'softmax':
      return { transform: 'softmax', task: 'multiclass', sigmoid: 1 };
    case 'multiclassova':
    case 'multiclass_ova':
    case 'ova':
    case 'ovr':
      return { transform: 'ova_sigmoid', task: 'multiclass', sigmoid };
    case 'regression':
    case 'regression_l2':
    case 'regression_l1':
    case 'huber':
    case 'fair':
    case 'quantile':
    case 'mape':
      return { transform: sqrt ? 'signed_square' : 'identity', task: 'regression', sigmoid: 1 };
    case 'poisson':
    case 'gamma':
    case 'tweedie':
      return { transform: 'exp', task: 'regression', sigmoid: 1 };
    case 'cross_entropy':
    case 'xentropy':
      return { transform: 'sigmoid', task: 'regression', sigmoid: 1 };
    case 'cross_entropy_lambda':
    case 'xentlambda':
      return { transform: 'log1p_exp', task: 'regression', sigmoid: 1 };
    case 'lambdarank':
    case 'rank_xendcg':
      return { transform: 'identity', task: 'ranking', sigmoid: 1 };
    case 'custom':
    case 'none':
      // trained with a custom objective: LightGBM predicts the raw score
      return { transform: 'identity', task: 'regression', sigmoid: 1 };
    default:
      throw new UnknownObjectiveError(name, 'LightGBM');
  }
}

export function parseLightgbmText(text: string): TreeEnsembleIR {
  const lines = text.split('\n');
  const first = (lines[0] ?? '').trim();
  if (first !== 'tree') {
    throw new ModelFormatError(
      `not a LightGBM text model: it should start with the line 'tree' (found ${fileText(first)})`,
    );
  }
  const header: Block = new Map();
  const flags = new Set<string>();
  const blocks: Block[] = [];
  let current: Block = header;
  let ended = false;
  for (let i = 1; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    if (line === 'end of trees') {
      ended = true;
      break; // feature importances, parameters and pandas_categorical follow; prediction ignores them
    }
    if (line.startsWith('Tree=')) {
      current = new Map();
      blocks.push(current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) flags.add(line);
    else current.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const version = header.get('version');
  if (version === undefined || !header.has('max_feature_idx')) {
    throw new ModelFormatError("not a LightGBM text model: no 'version=' / 'max_feature_idx=' header");
  }
  const sizes = header.get('tree_sizes');
  const expected = sizes !== undefined && sizes.trim() !== '' ? sizes.trim().split(/\s+/).length : -1;
  if (expected >= 0 && blocks.length < expected) {
    throw new TruncatedModelError(
      `LightGBM model has ${blocks.length} trees but tree_sizes lists ${expected} (truncated file?)`,
    );
  }
  if (!ended) throw new TruncatedModelError("LightGBM model has no 'end of trees' line (truncated file?)");

  const numFeatures =
    declaredCount(
      int(header.get('max_feature_idx'), 'max_feature_idx'),
      LIMITS.features - 1,
      'LightGBM model: max_feature_idx',
    ) + 1;
  const numClass = header.has('num_class')
    ? declaredCount(int(header.get('num_class'), 'num_class'), LIMITS.outputs, 'LightGBM model: num_class')
    : 1;
  const perIter = header.has('num_tree_per_iteration')
    ? declaredCount(
        int(header.get('num_tree_per_iteration'), 'num_tree_per_iteration'),
        LIMITS.outputs,
        'LightGBM model: num_tree_per_iteration',
      )
    : numClass;
  if (!(perIter >= 1)) throw new ModelFormatError('LightGBM model: bad num_tree_per_iteration');
  if (blocks.length > LIMITS.trees)
    throw new ModelFormatError(`LightGBM model has ${blocks.length} trees; grove's limit is ${LIMITS.trees}`);
  // LightGBM itself refuses a model without one name per feature (GBDT::LoadModelFromString:
  // "Wrong size of feature_names"): the names are the bytes that back max_feature_idx.
  const names = header.get('feature_names');
  const featureNames = names === undefined ? [] : names.trim().split(/\s+/);
  if (featureNames.length !== numFeatures) {
    throw new ModelFormatError(
      `LightGBM model: max_feature_idx says ${numFeatures} features but feature_names lists ${names === undefined ? 'none' : featureNames.length}`,
    );
  }
  const obj = lightgbmObjective(header.get('objective') ?? 'custom');
  const numGroups = perIter;

  const trees: TreeIR[] = new Array(blocks.length);
  const treeGroup = new Int32Array(blocks.length);
  for (let t = 0; t < blocks.length; t++) {
    trees[t] = parseTree(blocks[t] as Block, t, numFeatures);
    treeGroup[t] = t % perIter;
  }
  const classCount = obj.task === 'binary' ? 2 : obj.task === 'multiclass' ? numGroups : 0;
  const objective = (header.get('objective') ?? 'custom').trim().split(/\s+/)[0] as string;
  return {
    library: 'lightgbm',
    objective,
    task: obj.task,
    numFeatures,
    featureNames: featureNames.map((n) => n.slice(0, LIMITS.nameLength)),
    compare: 'le',
    inputPrecision: 'f64',
    sumPrecision: 'f64',
    categorical: { inSetGoesLeft: true, nan: 'right', invalid: 'right', negative: 'truncated' },
    numGroups,
    leafWidth: 1,
    trees,
    treeGroup,
    baseMargin: new Float64Array(numGroups),
    average: flags.has('average_output'),
    averageRaw: false, // predict_raw_score returns the sum; only predictions are averaged
    transform: obj.transform,
    sigmoidScale: obj.sigmoid,
    classes: classCount > 0 ? Array.from({ length: classCount }, (_, i) => i) : null,
  };
}

function int(v: string | undefined, what: string): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n))
    throw new ModelFormatError(`LightGBM model: ${what} is not an integer (${fileText(v)})`);
  return n;
}

function parseNumber(s: string): number {
  const n = Number(s);
  if (!Number.isNaN(n)) return n;
  const l = s.toLowerCase();
  if (l === 'inf' || l === '+inf' || l === 'infinity') return Number.POSITIVE_INFINITY;
  if (l === '-inf' || l === '-infinity') return Number.NEGATIVE_INFINITY;
  if (l === 'nan' || l === '-nan') return Number.NaN;
  throw new ModelFormatError(`LightGBM model: ${fileText(s)} is not a number`);
}

/**
 * A tree's list `key`: exactly `length` numbers, into `into` at `offset` (a new array without
 * `into`). A missing list or another count is truncation.
 */
function list(
  block: Block,
  key: string,
  where: string,
  length: number,
  into?: Float64Array,
  offset = 0,
): Float64Array {
  const v = block.get(key);
  if (v === undefined)
    throw new TruncatedModelError(`LightGBM model: ${where} has no '${key}' (truncated file?)`);
  // n numbers take at least 2n - 1 characters: nothing is allocated for a count (which may come
  // from the file) that the line cannot hold.
  const fits = Number.isInteger(length) && length >= 0 && length <= (v.length + 1) / 2;
  const out = fits ? (into ?? new Float64Array(length)) : new Float64Array(0);
  if (fits && plainDecimals(v, out, offset, length) === length) return out;
  const trimmed = v.trim();
  // LightGBM separates with single spaces; fall back to any whitespace for hand-edited files
  const parts =
    trimmed === ''
      ? []
      : trimmed.includes('  ') || trimmed.includes('\t')
        ? trimmed.split(/\s+/)
        : trimmed.split(' ');
  if (parts.length !== length) {
    throw new TruncatedModelError(
      `LightGBM model: ${where} ${key} has ${parts.length} values, expected ${length} (truncated file?)`,
    );
  }
  for (let i = 0; i < length; i++) {
    const p = parts[i] as string;
    const n = +p;
    out[offset + i] = Number.isNaN(n) ? parseNumber(p) : n;
  }
  return out;
}

function parseTree(block: Block, t: number, numFeatures: number): TreeIR {
  const where = `tree ${t}`;
  const numLeaves = int(block.get('num_leaves'), `${where} num_leaves`);
  if (!(numLeaves >= 1)) throw new ModelFormatError(`LightGBM model: ${where} has ${numLeaves} leaves`);
  // tree.cpp Tree(const char*): `is_linear` absent or 0 is a plain tree.
  const isLinear = block.has('is_linear') && int(block.get('is_linear'), `${where} is_linear`) !== 0;
  const leafValue = list(block, 'leaf_value', where, numLeaves);
  const inner = numLeaves - 1;
  const tree = allocTree(inner + numLeaves);
  for (let j = 0; j < numLeaves; j++) {
    tree.left[inner + j] = -1;
    tree.right[inner + j] = -1;
    tree.leafValue[inner + j] = leafValue[j] as number;
  }
  if (isLinear) tree.linear = readLinearLeaves(block, where, numLeaves, inner, numFeatures);
  if (inner === 0) {
    tree.cover = Float64Array.of(1); // a constant tree: node 0 is its only leaf
    tree.gain = Float64Array.of(0);
    return tree;
  }
  const feat = list(block, 'split_feature', where, inner);
  const thr = list(block, 'threshold', where, inner);
  const dtype = list(block, 'decision_type', where, inner);
  const left = list(block, 'left_child', where, inner);
  const right = list(block, 'right_child', where, inner);
  const numCat = block.has('num_cat') ? int(block.get('num_cat'), `${where} num_cat`) : 0;
  let bounds: ArrayLike<number> = [];
  if (numCat > 0) {
    bounds = list(block, 'cat_boundaries', where, numCat + 1);
    const words = list(block, 'cat_threshold', where, bounds[numCat] as number);
    tree.catBits = Uint32Array.from(words, (w) => w >>> 0);
  }
  const node = (c: number) => (c < 0 ? inner + ~c : c);
  for (let i = 0; i < inner; i++) {
    const l = left[i] as number;
    const r = right[i] as number;
    if ((l < 0 && ~l >= numLeaves) || (r < 0 && ~r >= numLeaves)) {
      throw new ModelFormatError(`LightGBM model: ${where} node ${i} points at a leaf that does not exist`);
    }
    tree.left[i] = node(l);
    tree.right[i] = node(r);
    tree.feature[i] = feat[i] as number;
    const dt = dtype[i] as number;
    tree.defaultLeft[i] = dt & 2 ? 1 : 0;
    const mt = (dt >> 2) & 3;
    tree.missingType[i] = mt === 0 ? MISSING_NONE : mt === 1 ? MISSING_ZERO : MISSING_NAN;
    if (dt & 1) {
      const idx = thr[i] as number;
      if (!(Number.isInteger(idx) && idx >= 0 && idx < numCat)) {
        throw new ModelFormatError(
          `LightGBM model: ${where} node ${i} refers to category set ${idx}, but the tree has ${numCat}`,
        );
      }
      tree.catOffset[i] = bounds[idx] as number;
      tree.catWords[i] = (bounds[idx + 1] as number) - (bounds[idx] as number);
    } else {
      tree.threshold[i] = thr[i] as number;
    }
  }
  checkTreeShape(tree, numFeatures, `LightGBM ${where}`);
  readNodeStats(block, tree, inner, numLeaves);
  return tree;
}

/**
 * Covers and gains for explanations (tree-ir.ts TreeIR.cover): LightGBM's TreeSHAP weighs
 * branches by `internal_count` / `leaf_count` (Tree::data_count); `split_gain` is its gain
 * importance. Absent or malformed lists leave the tree predictable but not explainable.
 */
function readNodeStats(block: Block, tree: TreeIR, inner: number, numLeaves: number): void {
  const n = inner + numLeaves;
  const cover = new Float64Array(n);
  if (stat(block, 'internal_count', inner, cover, 0) && stat(block, 'leaf_count', numLeaves, cover, inner))
    tree.cover = cover;
  const gain = new Float64Array(n);
  if (stat(block, 'split_gain', inner, gain, 0)) tree.gain = gain;
}

/** Reads a node statistic into `into` at `offset`; false when it is absent or not all finite numbers. */
function stat(block: Block, key: string, length: number, into: Float64Array, offset: number): boolean {
  if (!block.has(key)) return false;
  try {
    list(block, key, 'tree', length, into, offset);
  } catch {
    return false;
  }
  for (let i = offset; i < offset + length; i++) if (!Number.isFinite(into[i]!)) return false;
  return true;
}

/** Linear leaves (tree.h: leaf_const, num_features, then leaf_features / leaf_coeff flattened). */
function readLinearLeaves(
  block: Block,
  where: string,
  numLeaves: number,
  inner: number,
  numFeatures: number,
): NonNullable<TreeIR['linear']> {
  const consts = list(block, 'leaf_const', where, numLeaves);
  const counts = list(block, 'num_features', where, numLeaves);
  let total = 0;
  for (const c of counts) {
    if (!(Number.isInteger(c) && c >= 0))
      throw new ModelFormatError(`LightGBM model: ${where} num_features has ${c}`);
    total += c;
  }
  const feats = list(block, 'leaf_features', where, total);
  const coeffs = list(block, 'leaf_coeff', where, total);
  const n = inner + numLeaves;
  const lin = {
    linearConst: new Float64Array(n),
    linearOffset: new Int32Array(n),
    linearCount: new Int32Array(n),
    linearFeature: Int32Array.from(feats),
    linearCoeff: Float64Array.from(coeffs),
  };
  let off = 0;
  for (let j = 0; j < numLeaves; j++) {
    lin.linearConst[inner + j] = consts[j] as number;
    lin.linearOffset[inner + j] = off;
    lin.linearCount[inner + j] = counts[j] as number;
    off += counts[j] as number;
  }
  for (const f of feats) {
    if (!(Number.isInteger(f) && f >= 0 && f < numFeatures))
      throw new ModelFormatError(
        `LightGBM model: ${where} linear leaf uses feature ${f}, but the model has ${numFeatures}`,
      );
  }
  return lin;
}
