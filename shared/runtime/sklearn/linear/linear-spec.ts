// What a linear model or linear pipeline is, independent of scikit-learn's objects: the container
// descriptor fields of the 'sklearn-linear' kind (small scalars only; arrays live in sections).
//
// Sections: coef (f64, K x C, row-major), intercept (f64, K); dense steps `step<i>_a` / `step<i>_b`
// (f64, F each); sparse models: vocab_slots / vocab_pool (feature-table.ts) for
// DictVectorizer, and col_scale (f64, C) for scalers after the vectorizer.

/** Dense preprocessing, applied in order to each row (sklearn's transform formulas):
 *  impute: x = isnan(x) ? a : x (SimpleImputer statistics_);
 *  standard: x = (x - a) / b (StandardScaler mean_ / scale_; absent parts are skipped);
 *  minmax: x = x * a + b (MinMaxScaler scale_ / min_);
 *  maxabs: x = x / a (MaxAbsScaler scale_). */
export interface DenseStep {
  type: 'impute' | 'standard' | 'minmax' | 'maxabs';
  hasA: boolean;
  hasB: boolean;
  /** MinMaxScaler(clip=True) clips to feature_range after scaling. */
  clip?: [number, number] | null;
}

/** How decision values (K columns) become `predict` outputs. */
export type LinearOutput =
  | 'regression' // predict = decision
  | 'logistic_ovr' // LinearClassifierMixin._predict_proba_lr: expit, [1-p, p] or normalised
  | 'logistic_multinomial' // softmax (binary: softmax([-d, d]))
  | 'modified_huber' // SGDClassifier(loss='modified_huber').predict_proba
  | 'label'; // classifiers without predict_proba: the predicted class label

export interface LinearDescriptor {
  K: number;
  C: number;
  /** Input width of dense models (0 for sparse ones). */
  F: number;
  /** scikit-learn kept float32 weights (float32 training data): compute in float32. */
  f32: boolean;
  steps: DenseStep[];
  vectorizer: 'none' | 'dict' | 'hasher';
  separator: string;
  /** FeatureHasher n_features / alternate_sign / input_type. */
  hashFeatures: number;
  alternateSign: boolean;
  hashInput: 'dict' | 'pair' | 'string';
  hasColScale: boolean;
  output: LinearOutput;
  /** Number of classes for classifiers (2 for binary with K = 1), else 0. */
  nClasses: number;
}

export const LINEAR_KIND = 'sklearn-linear';
