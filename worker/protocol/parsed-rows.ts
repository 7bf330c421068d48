// What every request parser produces: dense rows (or named rows for sparse models) ready to
// predict. Rows headed for the pool are allocated in shared memory so the thread reads them in
// place (no copy, no transfer) and the observers still see them afterwards. Rows predicted inline
// live in a reused scratch buffer: an inline request is parsed, predicted, observed and answered
// without an await in between, and a fresh Float64Array of more than 64 bytes is an off-heap
// allocation that costs microseconds plus GC work on every one-row request.
import { TooManyRowsError } from '../../shared/errors/grove-error.js';

export interface ParsedRows {
  /** Dense rows (row-major, NaN = missing); null for sparse models. */
  input: Float64Array | null;
  /** Named rows for sparse models (or kept for observers), else null. */
  named: Record<string, unknown>[] | null;
  rows: number;
  raw: boolean;
  /** Per-feature contributions asked for too (docs/explanations.md); absent = no. */
  contributions?: boolean;
  /** false when the request asked for the contributions output only (Open Inference Protocol `outputs`). */
  prediction?: boolean;
}

/** A growable scratch buffer handing out cached views by length. */
export class Scratch {
  private buf = new Float64Array(4096);
  private readonly views = new Map<number, Float64Array>();

  view(n: number): Float64Array {
    const v = this.views.get(n);
    if (v !== undefined) return v;
    if (n > this.buf.length) {
      this.buf = new Float64Array(Math.max(n, this.buf.length * 2));
      this.views.clear();
    }
    const view = this.buf.subarray(0, n);
    if (this.views.size < 256) this.views.set(n, view);
    return view;
  }
}

const inputScratch = new Scratch();

/** Shared memory for pool requests; otherwise the inline scratch (valid until the next request). */
export function allocRows(n: number, shared: boolean): Float64Array {
  return shared ? new Float64Array(new SharedArrayBuffer(n * 8)) : inputScratch.view(n);
}

export function checkRows(rows: number, maxRows: number): void {
  if (rows > maxRows) throw new TooManyRowsError(rows, maxRows);
}
