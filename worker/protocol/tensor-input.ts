// Open Inference Protocol request parsing (open_inference_rest.yaml, inference_request): `inputs`
// is a list of tensors {name, shape, datatype, data}; `data` is flat (row-major) or nested as the
// shape; FP16/FP32/FP64, INT8..INT64, UINT8..UINT64 and BOOL are numbers here (BYTES is refused).
// One tensor of shape [N, F] (or [F] for one row) holds whole rows; several tensors named after
// features, each of shape [N] or [N, 1], are columns (MLServer's and pandas-style clients).
import { BadInputError, type GroveErrorCode, UnknownFeatureError } from '../../shared/errors/grove-error.js';
import { featureNumber } from '../../shared/runtime/values/feature-value.js';
import type { LoadedVersion } from '../repository/loaded-version.js';
import { allocRows, checkRows, type ParsedRows } from './parsed-rows.js';

const INT_RANGES: Record<string, [number, number]> = {
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
};
const FLOATS = new Set(['FP16', 'FP32', 'FP64']);

export interface InferRequest extends ParsedRows {
  /** The request `id` to echo, or undefined. */
  id: string | undefined;
}

function bad(msg: string, code: GroveErrorCode = 'GROVE_ERR_BAD_INPUT'): never {
  throw new BadInputError(msg, code);
}

/** Converts one value of a tensor of `datatype`. */
function tensorValue(x: unknown, datatype: string, where: string): number {
  if (datatype === 'FP64' || datatype === 'FP16') return featureNumber(x, where);
  if (datatype === 'FP32') return Math.fround(featureNumber(x, where));
  if (datatype === 'BOOL') {
    if (x === true || x === 1) return 1;
    if (x === false || x === 0) return 0;
    if (x === null) return Number.NaN;
    return bad(
      `value ${JSON.stringify(x)?.slice(0, 40)} at ${where} is not a BOOL`,
      'GROVE_ERR_BAD_DATATYPE',
    );
  }
  const n = featureNumber(x, where);
  if (Number.isNaN(n)) return n; // a missing value (null / "NaN") is allowed in any numeric tensor
  const range = INT_RANGES[datatype]!;
  if (!Number.isInteger(n) || n < range[0] || n > range[1]) {
    return bad(`value ${n} at ${where} is not a valid ${datatype}`, 'GROVE_ERR_BAD_DATATYPE');
  }
  return n;
}

interface Tensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
  count: number;
}

function readTensor(t: unknown, i: number): Tensor {
  if (t === null || typeof t !== 'object' || Array.isArray(t)) bad(`inputs[${i}] must be an object`);
  const o = t as Record<string, unknown>;
  const name = o.name;
  if (typeof name !== 'string') bad(`inputs[${i}].name must be a string`);
  const shape = o.shape;
  if (!Array.isArray(shape) || shape.length === 0 || shape.length > 2) {
    bad(`inputs[${i}].shape must be [rows, features], [rows] or [features]`, 'GROVE_ERR_BAD_SHAPE');
  }
  let count = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      bad(`inputs[${i}].shape must hold non-negative integers`, 'GROVE_ERR_BAD_SHAPE');
    }
    count *= d;
  }
  const datatype = o.datatype;
  if (typeof datatype !== 'string') bad(`inputs[${i}].datatype must be a string`, 'GROVE_ERR_BAD_DATATYPE');
  if (!FLOATS.has(datatype) && !Object.hasOwn(INT_RANGES, datatype) && datatype !== 'BOOL') {
    bad(
      `inputs[${i}].datatype '${datatype.slice(0, 20)}' is not supported (use FP32, FP64, INTn, UINTn or BOOL)`,
      'GROVE_ERR_BAD_DATATYPE',
    );
  }
  const data = o.data;
  if (!Array.isArray(data)) bad(`inputs[${i}].data must be an array`);
  return { name, shape: shape as number[], datatype, data, count };
}

/** Writes tensor values into `dst` at dst[base + k * stride] for element k; checks the count. */
function fill(t: Tensor, dst: Float64Array, base: number, stride: number, where: string): void {
  const data = t.data;
  if (data.length === t.count && (data.length === 0 || !Array.isArray(data[0]))) {
    const dt = t.datatype;
    if (dt === 'FP64') {
      for (let k = 0; k < data.length; k++) {
        const x = data[k];
        dst[base + k * stride] = typeof x === 'number' ? x : featureNumber(x, where);
      }
    } else {
      for (let k = 0; k < data.length; k++) dst[base + k * stride] = tensorValue(data[k], dt, where);
    }
    return;
  }
  // Nested data must follow the shape exactly.
  let k = 0;
  const walk = (arr: unknown, depth: number): void => {
    if (depth === t.shape.length) {
      if (Array.isArray(arr)) bad(`${where}: data nests deeper than its shape`, 'GROVE_ERR_BAD_SHAPE');
      dst[base + k++ * stride] = tensorValue(arr, t.datatype, where);
      return;
    }
    if (!Array.isArray(arr) || arr.length !== t.shape[depth]) {
      bad(
        `${where}: data does not match shape [${t.shape.join(', ')}] (${t.count} values)`,
        'GROVE_ERR_BAD_SHAPE',
      );
    }
    for (const x of arr) walk(x, depth + 1);
  };
  if (data.length !== t.shape[0] || !data.some(Array.isArray)) {
    bad(
      `${where}: data holds ${data.length} values; shape [${t.shape.join(', ')}] needs ${t.count}`,
      'GROVE_ERR_BAD_SHAPE',
    );
  }
  walk(data, 0);
}

export function parseInferRequest(
  body: unknown,
  v: LoadedVersion,
  maxRows: number,
  sharedAbove: number,
): InferRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    bad('request body must be a JSON object');
  const b = body as Record<string, unknown>;
  let id: string | undefined;
  if (b.id !== undefined && b.id !== null) {
    if (typeof b.id === 'string') id = b.id;
    else if (typeof b.id === 'number') id = String(b.id);
    else bad('"id" must be a string');
  }
  const raw = rawParameter(b.parameters);
  const asked =
    b.outputs !== undefined && b.outputs !== null
      ? requestedOutputs(b.outputs)
      : { prediction: true, contributions: false };
  const contributions = asked.contributions || contributionsParameter(b.parameters);
  const wanted = { contributions, prediction: asked.prediction };
  const inputs = b.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0) bad('"inputs" must be a non-empty array of tensors');
  const F = v.numFeatures;
  const first = readTensor(inputs[0], 0);
  const columnar =
    inputs.length > 1 ||
    (v.featureIndex.has(first.name) && first.shape.length === 1 && first.shape[0] !== F) ||
    (v.featureIndex.has(first.name) && first.shape.length === 2 && first.shape[1] === 1 && F !== 1) ||
    v.sparse;
  if (!columnar) {
    let rows: number;
    if (first.shape.length === 2) {
      rows = first.shape[0]!;
      if (first.shape[1] !== F) {
        bad(
          `inputs[0] has ${first.shape[1]} features per row; model ${v.name} version ${v.version} takes ${F}`,
          'GROVE_ERR_FEATURE_COUNT',
        );
      }
    } else {
      if (first.shape[0] !== F) {
        bad(
          `inputs[0] shape [${first.shape[0]}] is one row of ${first.shape[0]} values; the model takes ${F}`,
          'GROVE_ERR_FEATURE_COUNT',
        );
      }
      rows = 1;
    }
    checkRows(rows, maxRows);
    const input = allocRows(rows * F, rows > sharedAbove);
    fill(first, input, 0, 1, 'inputs[0]');
    return { id, input, named: null, rows, raw, ...wanted };
  }
  // Columns: one tensor per feature name.
  const tensors: Tensor[] = [first];
  for (let i = 1; i < inputs.length; i++) tensors.push(readTensor(inputs[i], i));
  const rows = tensors[0]!.shape[0]!;
  const unknown: string[] = [];
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i]!;
    if (t.shape[0] !== rows || (t.shape.length === 2 && t.shape[1] !== 1)) {
      bad(
        `inputs[${i}] (${t.name}): feature columns must all have shape [${rows}] or [${rows}, 1]`,
        'GROVE_ERR_BAD_SHAPE',
      );
    }
    if (!v.sparse && !v.featureIndex.has(t.name)) unknown.push(t.name);
  }
  if (unknown.length > 0) throw new UnknownFeatureError(unknown, v.featureIndex.keys());
  checkRows(rows, maxRows);
  if (v.sparse) {
    const named: Record<string, unknown>[] = [];
    const col = new Float64Array(rows);
    for (let r = 0; r < rows; r++) named.push(Object.create(null));
    for (let i = 0; i < tensors.length; i++) {
      fill(tensors[i]!, col, 0, 1, `inputs[${i}]`);
      for (let r = 0; r < rows; r++) if (!Number.isNaN(col[r]!)) named[r]![tensors[i]!.name] = col[r];
    }
    return { id, input: null, named, rows, raw, ...wanted };
  }
  const input = allocRows(rows * F, rows > sharedAbove).fill(Number.NaN);
  for (let i = 0; i < tensors.length; i++) {
    fill(tensors[i]!, input, v.featureIndex.get(tensors[i]!.name)!, F, `inputs[${i}]`);
  }
  return { id, input, named: null, rows, raw, ...wanted };
}

/** `parameters.raw: true` asks for margins (XGBoost output_margin, decision_function). */
export function rawParameter(p: unknown): boolean {
  if (p === undefined || p === null) return false;
  if (typeof p !== 'object' || Array.isArray(p)) bad('"parameters" must be an object');
  const r = (p as Record<string, unknown>).raw;
  if (r === undefined || r === null || r === false) return false;
  if (r === true) return true;
  return bad('parameters.raw must be a boolean');
}

/** `parameters.contributions: true` asks for per-feature contributions too (docs/explanations.md). */
export function contributionsParameter(p: unknown): boolean {
  if (p === undefined || p === null || typeof p !== 'object' || Array.isArray(p)) return false;
  const c = (p as Record<string, unknown>).contributions;
  if (c === undefined || c === null || c === false) return false;
  if (c === true) return true;
  return bad('parameters.contributions must be a boolean');
}

export const OUTPUT_NAME = 'output-0';
/** The output holding per-feature contributions, when asked for. */
export const CONTRIBUTIONS_OUTPUT = 'contributions';

/** Which outputs `outputs` names: the prediction, the contributions, or both. */
function requestedOutputs(outputs: unknown): { prediction: boolean; contributions: boolean } {
  if (!Array.isArray(outputs)) bad('"outputs" must be an array');
  const asked = { prediction: false, contributions: false };
  for (const o of outputs) {
    const name = o !== null && typeof o === 'object' ? (o as Record<string, unknown>).name : undefined;
    if (name === OUTPUT_NAME) asked.prediction = true;
    else if (name === CONTRIBUTIONS_OUTPUT) asked.contributions = true;
    else
      bad(
        `requested output ${JSON.stringify(name)?.slice(0, 40)} is unknown; this model has '${OUTPUT_NAME}' and '${CONTRIBUTIONS_OUTPUT}'`,
        'GROVE_ERR_UNKNOWN_OUTPUT',
      );
  }
  // An empty list asks for nothing in particular: the default output.
  if (!asked.prediction && !asked.contributions) asked.prediction = true;
  return asked;
}
