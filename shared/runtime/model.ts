// The model contract every part of grove codes against: parsers (shared/runtime/formats, shared/runtime/sklearn)
// produce a Model; the worker, the CLI, the monitor and `grove compare` only use this interface.
//
// A Model is fully described by one SharedArrayBuffer (`buffer`): `modelFromBuffer(buffer)` in any
// thread rebuilds an identical Model without copying (the flat layout is documented in
// shared/runtime/trees/flat-layout.ts). grove's own file format is that buffer plus a header and checksum.

import { BadInputError } from '../errors/grove-error.js';

export type Platform =
  | 'xgboost_json'
  | 'xgboost_ubj'
  | 'lightgbm_text'
  | 'sklearn_pickle'
  | 'sklearn_joblib'
  | 'grove';

export type Task = 'binary' | 'multiclass' | 'regression' | 'ranking';

export interface ModelMeta {
  /** Where the model came from (a `.grove` file keeps its source platform in `sourcePlatform`). */
  platform: Platform;
  sourcePlatform: Platform;
  /** Library and objective or estimator, e.g. `binary:logistic`, `LogisticRegression`. */
  library: 'xgboost' | 'lightgbm' | 'sklearn';
  objective: string;
  task: Task;
  /** Dense input width. Rows are row-major Float64Array of this width; NaN = missing. */
  numFeatures: number;
  /** Length numFeatures; `f0..fN-1` where the file names none. */
  featureNames: string[];
  /** Columns of `predict` (what the library's predict/predict_proba returns), e.g. ['prediction'] or ['0','1','2']. */
  outputNames: string[];
  /** Columns of `predict(..., raw=true)` (margin / decision_function). */
  rawOutputNames: string[];
  /** Class labels for classifiers (index = column), else null. */
  classes: (string | number)[] | null;
  /**
   * Sparse models take rows as name -> value objects (absent = 0), not dense arrays
   * (DictVectorizer / FeatureHasher pipelines). For them numFeatures is 0.
   */
  sparse: boolean;
  /** Features the model actually splits on / uses (indices into featureNames). */
  usedFeatures: number[];
}

export interface Model {
  readonly meta: ModelMeta;
  /** Everything the model is; share it with threads and rebuild with modelFromBuffer. */
  readonly buffer: SharedArrayBuffer;
  /**
   * Predicts `rows` dense rows (row-major, `rows * meta.numFeatures` values, NaN = missing) into
   * `out` (`rows * outputNames.length`, or `rows * rawOutputNames.length` when raw).
   */
  predict(input: Float64Array, rows: number, out: Float64Array, raw?: boolean): void;
  /** One dense row; allocates nothing per call. */
  predictOne(row: Float64Array, out: Float64Array, raw?: boolean): void;
  /** Rows given as name -> value objects. Dense models map names to columns (absent = missing);
   *  sparse models look names up in their weight table (absent = 0). Unknown names throw
   *  UnknownFeatureError for dense models and are ignored by sparse ones (as DictVectorizer does). */
  predictNamed(
    rows: ReadonlyArray<Readonly<Record<string, unknown>>>,
    out: Float64Array,
    raw?: boolean,
  ): void;
}

/** The argument check every dense `predict` makes: `rows` rows of `F` inputs, room for `width` outputs each. */
export function checkPredictArgs(
  input: Float64Array,
  rows: number,
  F: number,
  out: Float64Array,
  width: number,
): void {
  if (!Number.isInteger(rows) || rows < 0 || input.length < rows * F) {
    throw new BadInputError(
      `expected ${rows} rows of ${F} features (${rows * F} values), got ${input.length}`,
    );
  }
  if (out.length < rows * width)
    throw new BadInputError(`output holds ${out.length} values; ${rows * width} needed`);
}
