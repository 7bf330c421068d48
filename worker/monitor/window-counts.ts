// The per-version window: the last `window` rows' bin codes in a ring (one byte per row per
// column) and integer counts per code, so adding a row is, per column, one bin lookup (a count of
// edges, or a binary search, in a small Float64Array), one ring write and two typed-array
// increments/decrements, done column by column over a whole prediction.
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

  /**
   * Adds rows [from, to) of a prediction: `F` feature values per row from `input` (row-major; null =
   * not counted), then column F from `out` (`K` values per row, column `k`; null = not counted).
   * Column by column, one pass over the typed arrays per column with the column's bins in locals:
   * a streamed batch or a job chunk adds up to a window of rows at once, so this loop is the whole
   * of its monitoring cost.
   */
  addRows(
    input: Float64Array | null,
    F: number,
    out: Float64Array | null,
    K: number,
    k: number,
    from: number,
    to: number,
  ): void {
    const n = to - from;
    if (n <= 0) return;
    const C = this.columns;
    const W = this.window;
    const ring = this.ring;
    const start = this.pos;
    // Rows that fill empty slots expire nothing; every later row expires its slot's old codes.
    const fresh = Math.min(n, W - this.filled);
    for (let c = 0; c < C; c++) {
      const src = c < F ? input : out;
      const stride = c < F ? F : K;
      const col = c < F ? c : k;
      const off = this.offsets[c]!;
      const counts = this.counts;
      let missing = 0;
      let nonfinite = 0;
      let skipped = 0;
      let slot = start;
      // Expired in row order: with more than W rows a later row's slot holds an earlier row's code.
      const kind = src === null ? -1 : this.kinds[c]!;
      const edges = this.edges[c]!;
      const nE = edges.length;
      const min = this.mins[c]!;
      const max = this.maxs[c]!;
      for (let i = 0; i < n; i++) {
        const at = slot * C + c;
        if (i >= fresh) {
          const old = ring[at]!;
          if (old < CODE_SKIP) counts[off + old]!--;
          else if (old === CODE_MISSING) missing--;
          else if (old === CODE_NONFINITE) nonfinite--;
          else skipped--;
        }
        let code: number;
        if (kind < 0) code = CODE_SKIP;
        else {
          const x = src![(from + i) * stride + col]!;
          if (Number.isNaN(x)) code = CODE_MISSING;
          else if (x === Infinity || x === -Infinity) code = CODE_NONFINITE;
          else if (kind === KIND_NUMERIC) {
            if (x < min) code = nE + 1;
            else if (x > max) code = nE + 2;
            else if (nE > 16) code = binOf(edges, x);
            else {
              // Few edges (<= 16 for 10 bins and the output): a branch-free count of edges <= x
              // beats a binary search, whose branches mispredict on every row of real data.
              let b = 0;
              for (let e = 0; e < nE; e++) b += +(edges[e]! <= x);
              code = b;
            }
          } else if (kind === KIND_CATEGORICAL) {
            const v = indexOfValue(edges, x);
            code = v < 0 ? nE : v;
          } else code = 0;
        }
        ring[at] = code;
        if (code < CODE_SKIP) counts[off + code]!++;
        else if (code === CODE_MISSING) missing++;
        else if (code === CODE_NONFINITE) nonfinite++;
        else skipped++;
        slot = slot + 1 === W ? 0 : slot + 1;
      }
      this.missing[c]! += missing;
      this.nonfinite[c]! += nonfinite;
      this.skipped[c]! += skipped;
    }
    this.pos = (start + n) % W;
    this.filled += fresh;
    this.total += n;
  }

  /** Counts rows that were seen but never enter the window (they would be expired at once). */
  skipRows(n: number): void {
    this.total += n;
  }

  /** Counts of column c's codes (a view, no copy). */
  columnCounts(c: number): Uint32Array {
    return this.counts.subarray(this.offsets[c]!, this.offsets[c + 1]!);
  }
}
