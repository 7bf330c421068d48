// Response bodies, built as one string (the hot path writes it with a single res.end). JSON has no
// NaN or Infinity: such outputs are written as null.
import type { LoadedVersion } from '../repository/loaded-version.js';
import { OUTPUT_NAME } from './tensor-input.js';

function num(x: number): string {
  return Number.isFinite(x) ? '' + x : 'null';
}

/** Open Inference Protocol inference_response: one FP64 tensor, [N] or [N, K]. */
export function inferResponse(
  v: LoadedVersion,
  id: string | undefined,
  out: Float64Array,
  rows: number,
  k: number,
): string {
  let s = '{' + v.jsonHead;
  if (id !== undefined) s += ',"id":' + JSON.stringify(id);
  s +=
    ',"outputs":[{"name":"' +
    OUTPUT_NAME +
    '","datatype":"FP64","shape":[' +
    rows +
    (k === 1 ? '' : ',' + k) +
    '],"data":[';
  const n = rows * k;
  if (n > 0) {
    s += num(out[0]!);
    for (let i = 1; i < n; i++) s += ',' + num(out[i]!);
  }
  return s + ']}]}';
}

/** TF Serving predict response: a number per row (single output) or an array per row. */
export function predictResponse(v: LoadedVersion, out: Float64Array, rows: number, k: number): string {
  let s = '{"predictions":[';
  if (k === 1) {
    for (let r = 0; r < rows; r++) s += (r === 0 ? '' : ',') + num(out[r]!);
  } else {
    for (let r = 0; r < rows; r++) {
      const base = r * k;
      s += (r === 0 ? '[' : ',[') + num(out[base]!);
      for (let j = 1; j < k; j++) s += ',' + num(out[base + j]!);
      s += ']';
    }
  }
  return s + '],' + v.jsonHead + '}';
}
