// What `loadModel` returns and what an exported module exports: `predict`, `predictRaw` and
// `meta` over one runtime Model (shared/runtime/model.ts). The library and every module written by
// `grove export` run this same class over the same runtime, so they answer alike (docs/client.md).
import { BadInputError } from '../shared/errors/grove-error.js';
import type { Model, Platform, Task } from '../shared/runtime/model.js';
import { type Prediction, type Row, RowPredictor } from './rows.js';

/** What a model is: its inputs, outputs and origin. */
export interface ClientMeta {
  /** Input feature names in column order (dense models); [] for sparse models. */
  features: string[];
  /** Columns of `predict` (what the library's predict / predict_proba returns). */
  outputs: string[];
  /** Columns of `predictRaw` (margin / decision_function). */
  rawOutputs: string[];
  /** Class labels of classifiers (index = column of `predict`), else null. */
  classes: (string | number)[] | null;
  task: Task;
  library: 'xgboost' | 'lightgbm' | 'sklearn';
  /** The library's objective or estimator, e.g. `binary:logistic`, `LogisticRegression`. */
  objective: string;
  /** The format its library saved it in (a .grove file reports the format it was converted from). */
  format: Platform;
  /** Sparse models take rows as name -> value objects only (absent = 0). */
  sparse: boolean;
  /** sha256 (hex) of the model file's bytes, as the server reports it (x-grove-model-sha256). */
  sha256: string;
}

/** 'wasm' or 'js' for tree ensembles (which kernel walks the trees); 'linear' for linear models. */
export type KernelName = 'wasm' | 'js' | 'linear';

export function clientMeta(model: Model, sha256: string): ClientMeta {
  const m = model.meta;
  return {
    features: m.sparse ? [] : [...m.featureNames],
    outputs: [...m.outputNames],
    rawOutputs: [...m.rawOutputNames],
    classes: m.classes ? [...m.classes] : null,
    task: m.task,
    library: m.library,
    objective: m.objective,
    format: m.sourcePlatform,
    sparse: m.sparse,
    sha256,
  };
}

export function kernelOf(model: Model): KernelName {
  const k = (model as { kernel?: unknown }).kernel;
  return k === 'wasm' || k === 'js' ? k : 'linear';
}

export class GroveModel {
  readonly meta: ClientMeta;
  private readonly rows: RowPredictor;
  private readonly current: Model;

  constructor(model: Model, sha256: string) {
    this.current = model;
    this.meta = clientMeta(model, sha256);
    this.rows = new RowPredictor(model);
  }

  /** Which kernel answers (see KernelName). */
  get kernel(): KernelName {
    return kernelOf(this.current);
  }

  /**
   * Predictions: rows as arrays (feature order, null = missing) or objects (name -> value) give a
   * prediction per row; a row-major Float64Array of `rowCount` rows (NaN = missing) gives a
   * row-major Float64Array of `meta.outputs.length` values per row.
   */
  predict(rows: ReadonlyArray<Row>): Prediction[];
  predict(rows: Float64Array, rowCount: number): Float64Array;
  predict(rows: ReadonlyArray<Row> | Float64Array, rowCount?: number): Prediction[] | Float64Array {
    return this.run(rows, rowCount, false);
  }

  /** As `predict`, but the margins / decision_function (`meta.rawOutputs` columns). */
  predictRaw(rows: ReadonlyArray<Row>): Prediction[];
  predictRaw(rows: Float64Array, rowCount: number): Float64Array;
  predictRaw(rows: ReadonlyArray<Row> | Float64Array, rowCount?: number): Prediction[] | Float64Array {
    return this.run(rows, rowCount, true);
  }

  private run(rows: unknown, rowCount: unknown, raw: boolean): Prediction[] | Float64Array {
    if (rows instanceof Float64Array) return this.rows.predictDense(rows, rowCount, raw);
    if (!Array.isArray(rows))
      throw new BadInputError('rows must be an array of rows or a Float64Array with a row count');
    return this.rows.predictRows(rows, raw);
  }
}
