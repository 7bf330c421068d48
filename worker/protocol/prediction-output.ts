// Response bodies, built as one string (the hot path writes it with a single res.end). JSON has no
// NaN or Infinity: such outputs are written as null.
import type { LoadedVersion } from '../repository/loaded-version.js';
import { CONTRIBUTIONS_OUTPUT, OUTPUT_NAME } from './tensor-input.js';

function num(x: number): string {
  return Number.isFinite(x) ? '' + x : 'null';
}

/** What a response adds when the request asked for contributions (docs/explanations.md). */
export interface ContributionsPart {
  /** rows * K * (F + 1) values: per margin column, F features then the bias. */
  data: Float64Array;
  /** false: the client asked for the contributions output only (Open Inference Protocol). */
  prediction: boolean;
}

function values(s: string, data: Float64Array, n: number): string {
  if (n > 0) {
    s += num(data[0]!);
    for (let i = 1; i < n; i++) s += ',' + num(data[i]!);
  }
  return s;
}

/** Per version: the contributions tensor's parameters and the v1 row keys, as JSON text. */
interface ContributionNames {
  parameters: string;
  /** `"f0":` ... `"bias":` */
  keys: string[];
  /** `"<margin name>":` per margin column (v1 rows of multi-column models). */
  margins: string[];
}
const namesCache = new WeakMap<LoadedVersion, ContributionNames>();

function contributionNames(v: LoadedVersion): ContributionNames {
  let n = namesCache.get(v);
  if (n === undefined) {
    const cols = [...v.featureNames, 'bias'];
    const margins = v.model.meta.rawOutputNames;
    n = {
      parameters: JSON.stringify({ feature_names: cols, margin_names: margins }),
      keys: cols.map((c) => JSON.stringify(c) + ':'),
      margins: margins.map((c) => JSON.stringify(c) + ':'),
    };
    namesCache.set(v, n);
  }
  return n;
}

/**
 * Open Inference Protocol inference_response: one FP64 tensor, [N] or [N, K]; with contributions,
 * a second tensor `contributions` of shape [N, K * (F + 1)] whose parameters name the F + 1
 * columns of each margin column's block (`feature_names`, ending in `bias`) and the blocks
 * (`margin_names`).
 */
export function inferResponse(
  v: LoadedVersion,
  id: string | undefined,
  out: Float64Array,
  rows: number,
  k: number,
  contributions?: ContributionsPart | null,
): string {
  let s = '{' + v.jsonHead;
  if (id !== undefined) s += ',"id":' + JSON.stringify(id);
  s += ',"outputs":[';
  if (!contributions || contributions.prediction) {
    s +=
      '{"name":"' +
      OUTPUT_NAME +
      '","datatype":"FP64","shape":[' +
      rows +
      (k === 1 ? '' : ',' + k) +
      '],"data":[';
    s = values(s, out, rows * k) + ']}';
    if (contributions) s += ',';
  }
  if (contributions) {
    s +=
      '{"name":"' +
      CONTRIBUTIONS_OUTPUT +
      '","datatype":"FP64","shape":[' +
      rows +
      ',' +
      v.numRawOutputs * (v.numFeatures + 1) +
      '],"parameters":' +
      contributionNames(v).parameters +
      ',"data":[';
    s = values(s, contributions.data, contributions.data.length) + ']}';
  }
  return s + ']}';
}

/** TF Serving rows of named contributions: {"f0": x, ..., "bias": b}, or per margin column for several. */
function namedContributions(v: LoadedVersion, data: Float64Array, rows: number): string {
  const names = contributionNames(v);
  const F1 = names.keys.length;
  const K = names.margins.length;
  let s = '[';
  for (let r = 0; r < rows; r++) {
    s += r === 0 ? '{' : ',{';
    for (let g = 0; g < K; g++) {
      const base = (r * K + g) * F1;
      if (K > 1) s += (g === 0 ? '' : ',') + names.margins[g] + '{';
      for (let j = 0; j < F1; j++) s += (j === 0 ? '' : ',') + names.keys[j] + num(data[base + j]!);
      if (K > 1) s += '}';
    }
    s += '}';
  }
  return s + ']';
}

/**
 * TF Serving predict response: a number per row (single output) or an array per row; with
 * contributions, `"contributions"`: one object of named contributions per row.
 */
export function predictResponse(
  v: LoadedVersion,
  out: Float64Array,
  rows: number,
  k: number,
  contributions?: Float64Array | null,
): string {
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
  s += ']';
  if (contributions) s += ',"contributions":' + namedContributions(v, contributions, rows);
  return s + ',' + v.jsonHead + '}';
}
