// The Model of scikit-learn linear models and linear pipelines (container kind 'sklearn-linear'):
// dense rows go through the pipeline's scalers/imputer then `x . coef_k + intercept_k`; sparse
// models (DictVectorizer / FeatureHasher in front) take name -> value rows, look each name up in
// the shared weight table (feature-table.ts) or hash it (MurmurHash3), and touch only the
// columns the row has. Everything is views over the one SharedArrayBuffer.
import { BadInputError } from '../../../errors/grove-error.js';
import type { Container } from '../../container.js';
import type { Model, ModelMeta } from '../../model.js';
import { registerModelKind } from '../../registry.js';
import { NamedRowMapper } from '../../trees/named-rows.js';
import { FeatureTable } from './feature-table.js';
import { checkLinearContainer } from './linear-checks.js';
import { applyLinearOutput, outputWidthOf } from './linear-output.js';
import { LINEAR_KIND, type LinearDescriptor } from './linear-spec.js';
import { murmur3Signed, utf8Into, utf8Scratch } from './utf8-keys.js';

const INT32_MIN = -2147483648;

export class LinearModel implements Model {
  readonly meta: ModelMeta;
  readonly buffer: SharedArrayBuffer;
  private readonly d: LinearDescriptor;
  private readonly coef: Float64Array;
  private readonly intercept: Float64Array;
  private readonly labels: Float64Array;
  private readonly stepA: (Float64Array | null)[];
  private readonly stepB: (Float64Array | null)[];
  private readonly table: FeatureTable | null;
  private readonly colScale: Float64Array | null;
  private readonly x: Float64Array;
  private readonly dec: Float64Array;
  private readonly outW: number;
  private mapper: NamedRowMapper | null = null;

  constructor(c: Container) {
    // Checked copies only: the descriptor may come from a file or another process.
    const { d, meta } = checkLinearContainer(c);
    this.buffer = c.buffer;
    this.meta = meta;
    this.d = d;
    this.coef = c.f64('coef');
    this.intercept = c.f64('intercept');
    this.labels = c.f64('labels');
    this.stepA = this.d.steps.map((s, i) => (s.hasA ? c.f64(`step${i}_a`) : null));
    this.stepB = this.d.steps.map((s, i) => (s.hasB ? c.f64(`step${i}_b`) : null));
    this.table =
      this.d.vectorizer === 'dict'
        ? new FeatureTable({
            slots: c.i32('vocab_slots'),
            pool: c.u8('vocab_pool'),
          })
        : null;
    this.colScale = this.d.hasColScale ? c.f64('col_scale') : null;
    this.x = new Float64Array(this.d.F);
    this.dec = new Float64Array(this.d.K);
    this.outW = outputWidthOf(this.d.output, this.d.K, this.d.nClasses);
  }

  predict(input: Float64Array, rows: number, out: Float64Array, raw = false): void {
    if (this.d.vectorizer !== 'none')
      throw new BadInputError('this model takes rows of feature name -> value (use named rows)');
    const F = this.d.F;
    if (input.length < rows * F)
      throw new BadInputError(
        `expected ${rows * F} values for ${rows} rows of ${F} features, got ${input.length}`,
      );
    const w = raw ? this.d.K : this.outW;
    for (let r = 0; r < rows; r++) this.denseRow(input, r * F, out, r * w, raw);
  }

  predictOne(row: Float64Array, out: Float64Array, raw = false): void {
    if (this.d.vectorizer !== 'none')
      throw new BadInputError('this model takes rows of feature name -> value (use named rows)');
    if (row.length < this.d.F)
      throw new BadInputError(`expected ${this.d.F} feature values, got ${row.length}`);
    this.denseRow(row, 0, out, 0, raw);
  }

  predictNamed(rows: ReadonlyArray<Readonly<Record<string, unknown>>>, out: Float64Array, raw = false): void {
    if (this.d.vectorizer === 'none') {
      this.mapper ??= new NamedRowMapper(this.meta.featureNames);
      const dense = this.mapper.toDense(rows, this.d.F);
      this.predict(dense, rows.length, out, raw);
      return;
    }
    const w = raw ? this.d.K : this.outW;
    const lists = this.d.vectorizer === 'hasher' && this.d.hashInput !== 'dict';
    for (let r = 0; r < rows.length; r++) {
      const row: unknown = rows[r];
      if (Array.isArray(row)) {
        if (!lists) throw new BadInputError(`row ${r} is not an object of feature name -> value`);
        this.listRow(row, r);
      } else if (row !== null && typeof row === 'object' && (this.d.hashInput !== 'string' || isEmpty(row))) {
        this.sparseRow(row as Record<string, unknown>, r);
      } else {
        throw new BadInputError(`row ${r}: ${this.rowShape()}`);
      }
      this.finish(out, r * w, raw);
    }
  }

  private rowShape(): string {
    if (this.d.vectorizer !== 'hasher' || this.d.hashInput === 'dict')
      return 'not an object of feature name -> value';
    return this.d.hashInput === 'string'
      ? "this model's FeatureHasher(input_type='string') takes each row as a list of strings"
      : "this model's FeatureHasher(input_type='pair') takes each row as a list of [name, value] pairs (or a name -> value object)";
  }

  /**
   * FeatureHasher(input_type='string' | 'pair') rows, as sklearn's transform reads them: a string
   * list is ((s, 1) for s in row); pairs are (name, value), a string value hashing "name=value"
   * with 1 (_hashing_fast.pyx), a zero value skipped. Repeated names add up (sum_duplicates).
   */
  private listRow(row: unknown[], r: number): void {
    this.dec.fill(0);
    const strings = this.d.hashInput === 'string';
    for (let i = 0; i < row.length; i++) {
      const item = row[i];
      if (strings) {
        if (typeof item !== 'string') throw new BadInputError(`row ${r}: item ${i} is not a string`);
        this.addFeature(item, 1);
        continue;
      }
      if (!Array.isArray(item) || item.length !== 2 || typeof item[0] !== 'string')
        throw new BadInputError(`row ${r}: item ${i} is not a [name, value] pair`);
      const v: unknown = item[1];
      if (typeof v === 'number' && Number.isFinite(v)) {
        if (v !== 0) this.addFeature(item[0], v);
      } else if (typeof v === 'string') {
        this.addFeature(`${item[0]}=${v}`, 1);
      } else if (v !== null) {
        throw new BadInputError(`row ${r}: the value of pair ${i} is not a finite number or a string`);
      }
    }
  }

  /**
   * The row at input[at..at+F) after the pipeline's dense steps, into x (F values): what the final
   * estimator multiplies by its coefficients (also what explanations measure from).
   */
  transformRow(input: Float64Array, at: number, x: Float64Array): void {
    const { F, steps } = this.d;
    for (let j = 0; j < F; j++) x[j] = input[at + j]!;
    for (let s = 0; s < steps.length; s++) {
      const step = steps[s]!;
      const a = this.stepA[s]!;
      const b = this.stepB[s]!;
      switch (step.type) {
        case 'impute':
          for (let j = 0; j < F; j++) if (Number.isNaN(x[j]!)) x[j] = a[j]!;
          break;
        case 'standard':
          if (a) for (let j = 0; j < F; j++) x[j] = x[j]! - a[j]!;
          if (b) for (let j = 0; j < F; j++) x[j] = x[j]! / b[j]!;
          break;
        case 'minmax': {
          for (let j = 0; j < F; j++) x[j] = x[j]! * a[j]! + b[j]!;
          const clip = step.clip;
          if (clip) for (let j = 0; j < F; j++) x[j] = Math.min(clip[1], Math.max(clip[0], x[j]!));
          break;
        }
        case 'maxabs':
          for (let j = 0; j < F; j++) x[j] = x[j]! / a[j]!;
          break;
      }
    }
  }

  private denseRow(input: Float64Array, at: number, out: Float64Array, outAt: number, raw: boolean): void {
    const { F, K, f32 } = this.d;
    const x = this.x;
    this.transformRow(input, at, x);
    const coef = this.coef;
    const dec = this.dec;
    if (f32) {
      for (let k = 0; k < K; k++) {
        let s = 0;
        const base = k * F;
        for (let j = 0; j < F; j++) s = Math.fround(s + Math.fround(Math.fround(x[j]!) * coef[base + j]!));
        dec[k] = Math.fround(s + this.intercept[k]!);
      }
    } else {
      for (let k = 0; k < K; k++) {
        let s = 0;
        const base = k * F;
        for (let j = 0; j < F; j++) s += x[j]! * coef[base + j]!;
        dec[k] = s + this.intercept[k]!;
      }
    }
    this.finish(out, outAt, raw);
  }

  /** Accumulates one named row into `dec` (without the intercept yet). */
  private sparseRow(row: Record<string, unknown>, r: number): void {
    const dec = this.dec;
    dec.fill(0);
    const sep = this.d.separator;
    const keys = Object.keys(row);
    // The common case (one decision column, a vocabulary, numeric values) stays in this loop.
    const table = this.d.K === 1 && !this.colScale ? this.table : null;
    const coef = this.coef;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const v = row[key];
      if (typeof v === 'number') {
        if (v === 0) continue;
        if (table) {
          const col = table.lookup(key);
          if (col >= 0) dec[0] = dec[0]! + v * coef[col]!;
        } else {
          this.addFeature(key, v);
        }
      } else if (typeof v === 'string') {
        this.addFeature(key + sep + v, 1);
      } else if (typeof v === 'boolean') {
        if (v) this.addFeature(key, 1);
      } else if (Array.isArray(v)) {
        // DictVectorizer: an iterable of strings one-hot encodes each as "name=value".
        for (const item of v) {
          if (typeof item !== 'string')
            throw new BadInputError(`row ${r}: feature '${key}' lists a non-string value`);
          this.addFeature(key + sep + item, 1);
        }
      } else if (v !== null && v !== undefined) {
        throw new BadInputError(`row ${r}: feature '${key}' is not a number, string or list of strings`);
      }
    }
  }

  private addFeature(name: string, value: number): void {
    let col: number;
    let v = value;
    if (this.table) {
      col = this.table.lookup(name);
      if (col < 0) return; // DictVectorizer ignores names it did not see in fit
    } else {
      // FeatureHasher (_hashing_fast.pyx): signed MurmurHash3 of the UTF-8 name, seed 0.
      const n = this.d.hashFeatures;
      const h = murmur3Signed(utf8Scratch(), utf8Into(name), 0);
      col = h === INT32_MIN ? (2147483647 - (n - 1)) % n : Math.abs(h) % n;
      if (this.d.alternateSign && h < 0) v = -v;
    }
    if (this.colScale) v *= this.colScale[col]!;
    const { K, C } = this.d;
    for (let k = 0; k < K; k++) this.dec[k] = this.dec[k]! + v * this.coef[k * C + col]!;
  }

  private finish(out: Float64Array, at: number, raw: boolean): void {
    const { K, f32 } = this.d;
    const dec = this.dec;
    if (this.d.vectorizer !== 'none') for (let k = 0; k < K; k++) dec[k] = dec[k]! + this.intercept[k]!;
    if (raw) {
      for (let k = 0; k < K; k++) out[at + k] = dec[k]!;
      return;
    }
    applyLinearOutput(this.d.output, dec, K, out, at, this.labels, f32);
  }
}

/** `{}`: an empty row for any sparse model (the repository's probe row is one). */
function isEmpty(row: object): boolean {
  for (const _ in row) return false;
  return true;
}

registerModelKind(LINEAR_KIND, (c) => new LinearModel(c), checkLinearContainer);
