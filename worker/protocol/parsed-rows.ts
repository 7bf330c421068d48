// What every request parser produces: dense rows (or named rows for sparse models) ready to
// predict. Rows headed for the pool are allocated in shared memory so the thread reads them in
// place (no copy, no transfer) and the observers still see them afterwards.
import { TooManyRowsError } from '../../shared/errors/grove-error.js';

export interface ParsedRows {
  /** Dense rows (row-major, NaN = missing); null for sparse models. */
  input: Float64Array | null;
  /** Named rows for sparse models (or kept for observers), else null. */
  named: Record<string, unknown>[] | null;
  rows: number;
  raw: boolean;
}

export function allocRows(n: number, shared: boolean): Float64Array {
  return shared ? new Float64Array(new SharedArrayBuffer(n * 8)) : new Float64Array(n);
}

export function checkRows(rows: number, maxRows: number): void {
  if (rows > maxRows) throw new TooManyRowsError(rows, maxRows);
}
