// The per-version window: the last `window` rows' bin codes in a ring (one byte per row per
// column) and integer counts per code, so adding a row is, per column, one bin lookup (binary
// search in a small Float64Array), one ring write and two typed-array increments/decrements.
// Nothing here allocates per row; PSI and alarms are computed from the counts when read
// (version-monitor.ts), never per request.
import { binOf, indexOfValue } from '../../shared/profile/quantile-bins.js';

/** Codes kept in the ring beyond a column's bins. */
export const CODE_MISSING = 255;
export const CODE_NONFINITE = 254;
/** Not counted at all (e.g. the output column of a raw-margin request). */
export const CODE_SKIP = 253;

export const KIND_NONE = 0; // no profile: only missing / non-finite are counted
export const KIND_NUMERIC = 1;
export const KIND_CATEGORICAL = 2;

export interface ColumnSpec {
  kind: number;
  /** numeric: interior edges; categorical: sorted values. */
  edges: Float64Array;
  min: number;
  max: number;
}

/**
 * Codes per column: numeric with k = edges.length + 1 bins: 0..k-1 in range, k below min, k+1
 * above max; categorical with V values: 0..V-1, V = a value never seen in training; none: 0.
 */
export function codeCount(spec: ColumnSpec): number {
  if (spec.kind === KIND_NUMERIC) return spec.edges.length + 3;
  if (spec.kind === KIND_CATEGORICAL) return spec.edges.length + 1;
  return 1;
}

export class WindowCounts {
  readonly columns: number;
  readonly window: number;
  readonly kinds: Uint8Array;
  readonly edges: Float64Array[];
  readonly mins: Float64Array;
  readonly maxs: Float64Array;
  /** counts[offsets[c] + code] */
  readonly offsets: Uint32Array;
  readonly counts: Uint32Array;
  readonly missing: Uint32Array;
  readonly nonfinite: Uint32Array;
  readonly skipped: Uint32Array;
  private readonly ring: Uint8Array;
  private pos = 0;
  /** Rows in the window (<= window). */
  filled = 0;
  /** Rows ever added (monotonic; lets readers see whether anything changed). */
  total = 0;

  constructor(specs: ColumnSpec[], window: number) {
    this.columns = specs.length;
    this.window = window;
    this.kinds = Uint8Array.from(specs.map((s) => s.kind));
    this.edges = specs.map((s) => s.edges);
    this.mins = Float64Array.from(specs.map((s) => s.min));
    this.maxs = Float64Array.from(specs.map((s) => s.max));
    this.offsets = new Uint32Array(specs.length + 1);
    for (let c = 0; c < specs.length; c++) this.offsets[c + 1] = this.offsets[c]! + codeCount(specs[c]!);
    this.counts = new Uint32Array(this.offsets[specs.length]!);
    this.missing = new Uint32Array(specs.length);
    this.nonfinite = new Uint32Array(specs.length);
    this.skipped = new Uint32Array(specs.length);
    this.ring = new Uint8Array(window * specs.length);
  }

  /** The code of value x in column c. */
  code(c: number, x: number): number {
    if (Number.isNaN(x)) return CODE_MISSING;
    if (x === Infinity || x === -Infinity) return CODE_NONFINITE;
    const kind = this.kinds[c]!;
    if (kind === KIND_NUMERIC) {
      const edges = this.edges[c]!;
      if (x < this.mins[c]!) return edges.length + 1;
      if (x > this.maxs[c]!) return edges.length + 2;
      // Few edges (<= 16 for 10 bins and the output): a branch-free count of edges <= x beats a
      // binary search, whose branches mispredict on every row of real data.
      const n = edges.length;
      if (n > 16) return binOf(edges, x);
      let b = 0;
      for (let i = 0; i < n; i++) b += +(edges[i]! <= x);
      return b;
    }
    if (kind === KIND_CATEGORICAL) {
      const values = this.edges[c]!;
      const i = indexOfValue(values, x);
      return i < 0 ? values.length : i;
    }
    return 0;
  }

  /** Starts a row: expires the oldest row's codes when the window is full; returns the ring base. */
  beginRow(): number {
    const C = this.columns;
    const base = this.pos * C;
    if (this.filled === this.window) {
      for (let c = 0; c < C; c++) this.uncount(c, this.ring[base + c]!);
    } else {
      this.filled++;
    }
    this.pos = this.pos + 1 === this.window ? 0 : this.pos + 1;
    this.total++;
    return base;
  }

  /**
   * Adds one row: `F` feature values from `input` at `off` (input null = not counted), then the
   * output value in column F (`skipOutput` = not counted). The whole row in one loop over locals:
   * this is the only monitoring work a request pays for.
   */
  addRow(input: Float64Array | null, off: number, F: number, output: number, skipOutput: boolean): void {
    const C = this.columns;
    const ring = this.ring;
    const counts = this.counts;
    const offsets = this.offsets;
    const missing = this.missing;
    const nonfinite = this.nonfinite;
    const skipped = this.skipped;
    const base = this.pos * C;
    if (this.filled === this.window) {
      for (let c = 0; c < C; c++) {
        const old = ring[base + c]!;
        if (old < CODE_SKIP) counts[offsets[c]! + old]!--;
        else if (old === CODE_MISSING) missing[c]!--;
        else if (old === CODE_NONFINITE) nonfinite[c]!--;
        else skipped[c]!--;
      }
    } else {
      this.filled++;
    }
    this.pos = this.pos + 1 === this.window ? 0 : this.pos + 1;
    this.total++;
    for (let c = 0; c <= F; c++) {
      let code: number;
      if (c === F) code = skipOutput ? CODE_SKIP : this.code(c, output);
      else code = input === null ? CODE_SKIP : this.code(c, input[off + c]!);
      ring[base + c] = code;
      if (code < CODE_SKIP) counts[offsets[c]! + code]!++;
      else if (code === CODE_MISSING) missing[c]!++;
      else if (code === CODE_NONFINITE) nonfinite[c]!++;
      else skipped[c]!++;
    }
  }

  /** Counts rows that were seen but never enter the window (they would be expired at once). */
  skipRows(n: number): void {
    this.total += n;
  }

  /** Records column c of the row begun at `base`. Every column must be set for every row. */
  set(base: number, c: number, code: number): void {
    this.ring[base + c] = code;
    if (code === CODE_MISSING) this.missing[c]!++;
    else if (code === CODE_NONFINITE) this.nonfinite[c]!++;
    else if (code === CODE_SKIP) this.skipped[c]!++;
    else this.counts[this.offsets[c]! + code]!++;
  }

  private uncount(c: number, code: number): void {
    if (code === CODE_MISSING) this.missing[c]!--;
    else if (code === CODE_NONFINITE) this.nonfinite[c]!--;
    else if (code === CODE_SKIP) this.skipped[c]!--;
    else this.counts[this.offsets[c]! + code]!--;
  }

  /** Counts of column c's codes (a view, no copy). */
  columnCounts(c: number): Uint32Array {
    return this.counts.subarray(this.offsets[c]!, this.offsets[c + 1]!);
  }
}
