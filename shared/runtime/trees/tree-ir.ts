// The tree-ensemble intermediate representation: what every tree parser (XGBoost JSON/UBJSON,
// LightGBM text, scikit-learn trees) produces, and what the flat-layout compiler
// (shared/runtime/trees/compile.ts) turns into one SharedArrayBuffer. It states each library's
// semantics explicitly so the compiler and kernels never need to know which library it was.

/** Where a missing value (NaN) goes at a numeric node. */
export const MISSING_NAN = 0; // NaN takes the node's default direction (XGBoost, sklearn >= 1.3, LightGBM MissingType::NaN)
export const MISSING_ZERO = 1; // NaN and |x| <= 1e-35f (LightGBM's float kZeroThreshold) take the default direction (LightGBM MissingType::Zero)
export const MISSING_NONE = 2; // NaN is read as 0.0, then compared (LightGBM MissingType::None)

export interface TreeIR {
  /** Node arrays; node 0 is the root. A node is a leaf iff left[i] < 0. */
  left: Int32Array;
  right: Int32Array;
  /** Split feature (column in the dense row). */
  feature: Int32Array;
  /** Numeric split: go LEFT iff `x CMP threshold` (CMP from the ensemble's `compare`). */
  threshold: Float64Array;
  /** 1 if missing values go left. */
  defaultLeft: Uint8Array;
  /** MISSING_NAN | MISSING_ZERO | MISSING_NONE per node. */
  missingType: Uint8Array;
  /**
   * Categorical nodes: catOffset[i] >= 0 indexes `catBits` (words of a bitset over category ids,
   * bit c of word c>>5 set = category c is in the set), catWords[i] words long; -1 = numeric node.
   * Which side the set goes to, and where NaN / invalid categories go, is per ensemble (`categorical`).
   */
  catOffset: Int32Array;
  catWords: Int32Array;
  catBits: Uint32Array;
  /** Leaf values: leafValue[i * leafWidth + k] for leaf i (inner nodes ignored). */
  leafValue: Float64Array;
  /**
   * Linear leaves (LightGBM `linear_tree`; absent for every other model). At leaf i the output is
   * linearConst[i] + sum over j in [linearOffset[i], linearOffset[i] + linearCount[i]) of
   * linearCoeff[j] * x[linearFeature[j]], accumulated in double in that order; if any of those
   * x is NaN the output is leafValue[i] instead (LightGBM Tree::Predict with is_linear_). An x with
   * |x| <= 1e-35f counts as 0: LightGBM's dense-row predict path drops such values
   * (c_api.cpp RowPairFunctionFromDenseMatric keeps fabs(x) > kZeroThreshold or NaN) and reads 0
   * for them from its zeroed buffer. Only leafWidth 1 ensembles have linear leaves.
   */
  linear?: LinearLeaves;
  /**
   * Optional training statistics per node, for explanations (shared/runtime/explain/) only;
   * prediction never reads them. `cover`: the training weight that reached the node (XGBoost
   * `sum_hessian`, LightGBM `internal_count` / `leaf_count`, scikit-learn
   * `weighted_n_node_samples`, HistGradientBoosting `count`), what path-dependent TreeSHAP
   * weighs the branches by. `gain`: the split's gain at inner nodes (XGBoost `loss_changes`,
   * LightGBM `split_gain`, scikit-learn's weighted impurity decrease, HistGradientBoosting
   * `gain`), summed per feature for importance. A parser leaves them out when the file lacks them.
   */
  cover?: Float64Array;
  gain?: Float64Array;
}

export interface LinearLeaves {
  linearConst: Float64Array;
  linearOffset: Int32Array;
  linearCount: Int32Array;
  linearFeature: Int32Array;
  linearCoeff: Float64Array;
}

/**
 * How a categorical node decides, for a non-NaN value x: c = trunc(x) (toward zero). x is INVALID when
 * it is negative (`negative: 'value'`: x < 0, XGBoost's `InvalidCat`; `'truncated'` or absent: c < 0,
 * LightGBM's `static_cast<int>(fval) < 0`), or when c lies beyond the node's bitset
 * (c >= 32 * catWords[i]; this includes +Infinity and huge values). Otherwise x is in the set iff
 * bit c is set.
 */
export interface CategoricalRule {
  /** true: categories in the set go left (LightGBM, sklearn HGB); false: they go right (XGBoost). */
  inSetGoesLeft: boolean;
  /** Where NaN goes at a categorical node: the node's default direction, or always one side. */
  nan: 'default' | 'left' | 'right';
  /**
   * Where invalid values go (see above). 'default' = the node's default direction (XGBoost < 2.0:
   * `Decision<true>` returned `dft_left` for invalid or out-of-bitset categories); XGBoost >= 2.0 sends
   * them left, LightGBM right.
   */
  invalid: 'left' | 'right' | 'default';
  /** Which negative test applies (see above); absent means 'truncated'. */
  negative?: 'value' | 'truncated';
}

/** How margins become outputs (the library's own formulas; see shared/runtime/trees/transforms.ts). */
export type TransformName =
  | 'identity'
  | 'sigmoid' // 1 -> 1: 1 / (1 + exp(-scale * x))
  | 'sigmoid_pair' // 1 -> 2: [1 - p, p] (scikit-learn predict_proba for binary)
  | 'softmax' // k -> k
  | 'ova_sigmoid' // k -> k: independent sigmoids (LightGBM multiclassova)
  | 'exp' // 1 -> 1 (poisson, gamma, tweedie)
  | 'hinge' // 1 -> 1: x > 0 ? 1 : 0 (binary:hinge)
  | 'argmax' // k -> 1: index of the largest margin (multi:softmax)
  | 'log1p_exp' // 1 -> 1: log(1 + exp(x)) (LightGBM cross_entropy_lambda)
  | 'signed_square'; // 1 -> 1: sign(x) * x * x (LightGBM regression objectives trained with `sqrt`)

export interface TreeEnsembleIR {
  library: 'xgboost' | 'lightgbm' | 'sklearn';
  objective: string;
  task: 'binary' | 'multiclass' | 'regression' | 'ranking';
  numFeatures: number;
  featureNames: string[] | null;
  /** 'lt': left iff x < t (XGBoost); 'le': left iff x <= t (LightGBM, scikit-learn). */
  compare: 'lt' | 'le';
  /** 'f32': inputs are rounded to float32 before comparing (XGBoost, scikit-learn trees). */
  inputPrecision: 'f32' | 'f64';
  /** 'f32': margins accumulate in float32 in tree order (XGBoost); 'f64' otherwise. */
  sumPrecision: 'f32' | 'f64';
  categorical: CategoricalRule;
  /** Number of margin columns (classes for multiclass, else 1). */
  numGroups: number;
  /** Values per leaf: 1, or numGroups for vector leaves (sklearn forests' class distributions). */
  leafWidth: number;
  trees: TreeIR[];
  /** Margin column each tree adds to (ignored when leafWidth = numGroups > 1: a tree adds to all). */
  treeGroup: Int32Array;
  /** Added to each margin column before the trees (already in margin space). */
  baseMargin: Float64Array;
  /** Divide each column's tree sum by its tree count before adding baseMargin (random forests). */
  average: boolean;
  /**
   * With `average`: whether raw margins (raw=true) are averaged too; absent = true. LightGBM's raw
   * score is the plain tree sum and only the transformed output is averaged (GBDT::Predict divides
   * after PredictRaw), so its parser sets false.
   */
  averageRaw?: boolean;
  transform: TransformName;
  /** Scale for 'sigmoid' / 'sigmoid_pair' / 'ova_sigmoid' (LightGBM sigmoid coefficient); 1 otherwise. */
  sigmoidScale: number;
  /** Class labels for classifiers, else null. */
  classes: (string | number)[] | null;
}
