// Rows as an application holds them -> the runtime's dense Float64Array (or its named-row path),
// and the runtime's output back as one prediction per row, as grove's TF Serving-style answers
// give them (docs/api.md): a number for a single-column model, else a number per column. Shared by
// the library (client/index.ts) and every exported module (client/export/), so both take the same
// rows and throw the same errors as the server.
import { BadInputError } from '../shared/errors/grove-error.js';
import type { Model } from '../shared/runtime/model.js';
import { toNumber } from '../shared/runtime/trees/named-rows.js';

/** One row: values in feature order (null or undefined = missing), or feature name -> value. */
export type Row =
  | ReadonlyArray<number | string | boolean | null | undefined>
  | Readonly<Record<string, unknown>>;

/** A row's prediction: a number for single-column models, else one number per column. */
export type Prediction = number | number[];

/** Inputs up to this many values reuse one scratch array (one-row calls allocate nothing but the answer). */
const SCRATCH = 4096;

export class RowPredictor {
  private readonly F: number;
  private readonly names: readonly string[];
  private readonly inScratch: Float64Array;
  private readonly outScratch: Float64Array;

  constructor(private readonly model: Model) {
    this.F = model.meta.numFeatures;
    this.names = model.meta.featureNames;
    this.inScratch = new Float64Array(Math.max(this.F, Math.min(SCRATCH, this.F * 64)));
    const width = Math.max(model.meta.outputNames.length, model.meta.rawOutputNames.length, 1);
    this.outScratch = new Float64Array(Math.max(width, Math.min(SCRATCH, width * 64)));
  }

  /** Row-major dense input of `rows` rows -> row-major outputs (a new array). */
  predictDense(input: Float64Array, rows: unknown, raw: boolean): Float64Array {
    const meta = this.model.meta;
    if (meta.sparse) throw new BadInputError('this model takes rows as name -> value objects');
    if (typeof rows !== 'number' || !Number.isInteger(rows) || rows < 0)
      throw new BadInputError('a Float64Array of rows needs the row count as the second argument');
    if (input.length !== rows * this.F) {
      throw new BadInputError(
        `the Float64Array holds ${input.length} values; ${rows} rows of ${this.F} features are ${rows * this.F}`,
        'GROVE_ERR_BAD_SHAPE',
      );
    }
    const out = new Float64Array(rows * this.width(raw));
    this.model.predict(input, rows, out, raw);
    return out;
  }

  /** Rows as arrays or objects -> one prediction per row. */
  predictRows(rows: ReadonlyArray<Row>, raw: boolean): Prediction[] {
    const n = rows.length;
    if (n === 0) return [];
    const W = this.width(raw);
    const out = n * W <= this.outScratch.length ? this.outScratch : new Float64Array(n * W);
    const first = rows[0];
    if (this.model.meta.sparse || (first !== null && typeof first === 'object' && !Array.isArray(first))) {
      // Named rows (and every row of a sparse model) go through the runtime's own named path.
      this.model.predictNamed(rows as ReadonlyArray<Readonly<Record<string, unknown>>>, out, raw);
    } else {
      const F = this.F;
      const input = n * F <= this.inScratch.length ? this.inScratch : new Float64Array(n * F);
      for (let r = 0; r < n; r++) this.fillRow(rows[r], r, input, r * F);
      if (n === 1) this.model.predictOne(input, out, raw);
      else this.model.predict(input, n, out, raw);
    }
    return shape(out, n, W);
  }

  private width(raw: boolean): number {
    return raw ? this.model.meta.rawOutputNames.length : this.model.meta.outputNames.length;
  }

  private fillRow(row: unknown, r: number, input: Float64Array, base: number): void {
    const F = this.F;
    if (!Array.isArray(row)) {
      if (typeof row === 'number' && r === 0)
        throw new BadInputError('rows must be a list of rows: wrap a single row in [ ]');
      throw new BadInputError(
        `row ${r} must be an array of ${F} values (rows are all arrays or all name -> value objects)`,
      );
    }
    if (row.length !== F) {
      throw new BadInputError(
        `row ${r} has ${row.length} values; the model takes ${F}`,
        'GROVE_ERR_FEATURE_COUNT',
      );
    }
    for (let j = 0; j < F; j++) {
      const x = row[j];
      input[base + j] = typeof x === 'number' ? x : toNumber(x, this.names[j]!, r);
    }
  }
}

/** Row-major outputs -> a number per row (one column) or an array per row. */
function shape(out: Float64Array, n: number, W: number): Prediction[] {
  const res: Prediction[] = new Array(n);
  if (W === 1) {
    for (let r = 0; r < n; r++) res[r] = out[r]!;
    return res;
  }
  for (let r = 0; r < n; r++) {
    const row: number[] = new Array(W);
    for (let k = 0; k < W; k++) row[k] = out[r * W + k]!;
    res[r] = row;
  }
  return res;
}
