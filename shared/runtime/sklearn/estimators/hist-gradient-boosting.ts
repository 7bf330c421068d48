// HistGradientBoostingClassifier / Regressor as a TreeEnsembleIR. Each TreePredictor holds
// PREDICTOR_RECORD_DTYPE node records (value, count, feature_idx, num_threshold,
// missing_go_to_left, left, right, gain, depth, is_leaf, bin_threshold, is_categorical,
// bitset_idx) and raw_left_cat_bitsets (n_categorical_splits x 8 uint32). Prediction
// (_predictor.pyx `_predict_one_from_raw_data`) reads X as float64 (no float32 cast):
//   NaN -> missing_go_to_left; categorical: x < 0 -> missing side, (uint8)x in the node's bitset
//   -> left, a known category of the feature -> right, an unknown one -> missing side;
//   numeric: left iff x <= num_threshold. Leaf values already include the learning rate.
// raw = _baseline_prediction + sum of trees per column; outputs through the loss' link.
import { fileText } from '../../../errors/file-text.js';
import { ModelFormatError, UnsupportedModelError } from '../../../errors/grove-error.js';
import { declaredCount, LIMITS, TreeBudget } from '../../limits.js';
import { MISSING_NAN, type TransformName, type TreeEnsembleIR, type TreeIR } from '../../trees/tree-ir.js';
import { NdArray } from '../pickle/numpy-array.js';
import { asNumber, asObject, attr, firstAttr, need, type PyObject } from '../pickle/py-values.js';
import { arrayAttr, classesOf, featureNamesOf, listOf, numFeaturesOf } from './attributes.js';

export const HIST_GRADIENT_BOOSTING = ['HistGradientBoostingClassifier', 'HistGradientBoostingRegressor'];
const BITSET_WORDS = 8;

/** Known categories per categorical feature (BinMapper.make_known_categories_bitsets). */
function knownCategories(est: PyObject, numFeatures: number): (Uint32Array | null)[] {
  const out: (Uint32Array | null)[] = new Array(numFeatures).fill(null);
  const mapper = attr(est, '_bin_mapper');
  if (!mapper || typeof mapper !== 'object' || !('dict' in mapper)) return out;
  const m = mapper as PyObject;
  const isCat = attr(m, 'is_categorical_');
  if (!(isCat instanceof NdArray)) return out;
  const flags = isCat.toFloat64();
  const thresholds = listOf(need(m, 'bin_thresholds_'), '_BinMapper.bin_thresholds_');
  for (let f = 0; f < numFeatures; f++) {
    if (!flags[f]) continue;
    const bits = new Uint32Array(BITSET_WORDS);
    const cats = thresholds[f];
    if (cats instanceof NdArray) {
      for (const c of cats.toFloat64()) {
        const ci = Math.trunc(c);
        if (ci >= 0 && ci < 32 * BITSET_WORDS) bits[ci >>> 5]! |= 1 << (ci & 31);
      }
    }
    out[f] = bits;
  }
  return out;
}

function predictorToIR(pred: PyObject, known: (Uint32Array | null)[]): TreeIR {
  const nodes = arrayAttr(pred, 'nodes');
  const n = nodes.size;
  const field = (name: string) => nodes.toFloat64(name);
  const value = field('value');
  const featureIdx = field('feature_idx');
  // 'threshold' before 0.24; feature_idx widened from uint32 to intp in 1.3 (read by field dtype).
  const thr = field(nodes.dtype.field('num_threshold') ? 'num_threshold' : 'threshold');
  const missLeft = nodes.dtype.field('missing_go_to_left')
    ? field('missing_go_to_left')
    : new Float64Array(n);
  const leftF = field('left');
  const rightF = field('right');
  const isLeaf = field('is_leaf');
  const isCat = nodes.dtype.field('is_categorical') ? field('is_categorical') : new Float64Array(n);
  const bitsetIdx = nodes.dtype.field('bitset_idx') ? field('bitset_idx') : new Float64Array(n);
  const rawBits = attr(pred, 'raw_left_cat_bitsets');
  const raw = rawBits instanceof NdArray ? rawBits.toFloat64() : new Float64Array(0);
  const ir: TreeIR = {
    left: new Int32Array(n),
    right: new Int32Array(n),
    feature: new Int32Array(n),
    threshold: new Float64Array(n),
    defaultLeft: new Uint8Array(n),
    missingType: new Uint8Array(n).fill(MISSING_NAN),
    catOffset: new Int32Array(n).fill(-1),
    catWords: new Int32Array(n),
    catBits: new Uint32Array(0),
    leafValue: new Float64Array(n),
  };
  const localBits: number[] = [];
  for (let i = 0; i < n; i++) {
    if (isLeaf[i]) {
      ir.left[i] = -1;
      ir.right[i] = -1;
      ir.leafValue[i] = value[i]!;
      continue;
    }
    const l = leftF[i]!;
    const r = rightF[i]!;
    if (!(l > 0 && l < n && r > 0 && r < n))
      throw new ModelFormatError(`HistGradientBoosting node ${i} has invalid children`);
    ir.left[i] = l;
    ir.right[i] = r;
    ir.feature[i] = featureIdx[i]!;
    ir.threshold[i] = thr[i]!;
    ir.defaultLeft[i] = missLeft[i] ? 1 : 0;
    if (isCat[i]) {
      // Left set = raw_left bits, plus the unknown categories when the missing side is left
      // (unknown categories are treated as missing). Negative and >= 256 values are invalid
      // and take the missing side through the ensemble's categorical rule.
      const row = bitsetIdx[i]!;
      const knownBits = known[featureIdx[i]!] ?? new Uint32Array(BITSET_WORDS).fill(0xffffffff);
      ir.catOffset[i] = localBits.length;
      ir.catWords[i] = BITSET_WORDS;
      for (let w = 0; w < BITSET_WORDS; w++) {
        let word = (raw[row * BITSET_WORDS + w] ?? 0) >>> 0;
        if (missLeft[i]) word = (word | ~knownBits[w]!) >>> 0;
        localBits.push(word);
      }
    }
  }
  ir.catBits = Uint32Array.from(localBits);
  // Covers and gains for explanations (tree-ir.ts TreeIR.cover): the node records' count and gain.
  if (nodes.dtype.field('count')) ir.cover = field('count');
  if (nodes.dtype.field('gain')) {
    const gain = field('gain');
    for (let i = 0; i < n; i++) if (isLeaf[i]) gain[i] = 0;
    ir.gain = gain;
  }
  return ir;
}

export function histGradientBoostingToIR(est: PyObject): TreeEnsembleIR {
  const isClassifier = est.shortName === 'HistGradientBoostingClassifier';
  if (attr(est, '_preprocessor')) {
    throw new UnsupportedModelError(
      'HistGradientBoosting with categorical_features="from_dtype" (a fitted _preprocessor) is not supported',
    );
  }
  const numFeatures = numFeaturesOf(est);
  const predictors = listOf(need(est, '_predictors'), '_predictors').map((it) =>
    listOf(it, '_predictors[i]').map((p) => asObject(p, 'TreePredictor')),
  );
  const K = declaredCount(
    predictors[0]?.length ?? asNumber(need(est, 'n_trees_per_iteration_'), 'n_trees_per_iteration_'),
    LIMITS.outputs,
    'HistGradientBoosting trees per iteration',
  );
  const budget = new TreeBudget();
  const known = knownCategories(est, numFeatures);
  const trees: TreeIR[] = [];
  const treeGroup: number[] = [];
  for (const iteration of predictors) {
    iteration.forEach((p, k) => {
      budget.take(arrayAttr(p, 'nodes').size, 1);
      trees.push(predictorToIR(p, known));
      treeGroup.push(k);
    });
  }
  const baseline = arrayAttr(est, '_baseline_prediction').toFloat64();
  const baseMargin = new Float64Array(K);
  for (let k = 0; k < K; k++) baseMargin[k] = baseline.length === 1 ? baseline[0]! : baseline[k]!;
  let transform: TransformName = 'identity';
  let classes: (string | number)[] | null = null;
  const lossObj = firstAttr(est, '_loss', 'loss_');
  const lossName =
    lossObj && typeof lossObj === 'object' && 'shortName' in lossObj
      ? (lossObj as PyObject).shortName
      : String(attr(est, 'loss'));
  if (isClassifier) {
    classes = classesOf(est);
    transform = K === 1 ? 'sigmoid_pair' : 'softmax';
  } else if (
    ['HalfPoissonLoss', 'HalfGammaLoss', 'HalfTweedieLoss', 'Poisson', 'poisson', 'gamma'].includes(lossName)
  ) {
    transform = 'exp';
  } else if (
    ![
      'HalfSquaredError',
      'AbsoluteError',
      'PinballLoss',
      'LeastSquares',
      'LeastAbsoluteDeviation',
      'HalfTweedieLossIdentity',
      'squared_error',
      'absolute_error',
      'quantile',
    ].includes(lossName)
  ) {
    throw new UnsupportedModelError(
      `HistGradientBoostingRegressor loss ${fileText(lossName)} is not supported`,
    );
  }
  return {
    library: 'sklearn',
    objective: est.shortName,
    task: isClassifier ? (K === 1 ? 'binary' : 'multiclass') : 'regression',
    numFeatures,
    featureNames: featureNamesOf(est, numFeatures),
    compare: 'le',
    inputPrecision: 'f64',
    sumPrecision: 'f64',
    categorical: { inSetGoesLeft: true, nan: 'default', invalid: 'default', negative: 'value' },
    numGroups: K,
    leafWidth: 1,
    trees,
    treeGroup: Int32Array.from(treeGroup),
    baseMargin,
    average: false,
    transform,
    sigmoidScale: 1,
    classes,
  };
}
