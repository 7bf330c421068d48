// TF Serving REST predict parsing (`:predict`): `{"instances": [...]}` in the row format, each row
// an array of feature values or an object of name -> value (absent or null = missing:
// docs/api.md); or the columnar `{"inputs": {"age": [..], ...}}` / `{"inputs": [[..]]}`. Unknown feature
// names are a 400 that names them (for dense models; sparse models take names as they come, as
// DictVectorizer does). `"raw": true` asks for margins; `"contributions": true` adds per-feature
// contributions (docs/explanations.md).
import { BadInputError, type GroveErrorCode, UnknownFeatureError } from '../../shared/errors/grove-error.js';
import { featureNumber } from '../../shared/runtime/values/feature-value.js';
import type { LoadedVersion } from '../repository/loaded-version.js';
import { allocRows, checkRows, type ParsedRows } from './parsed-rows.js';

function bad(msg: string, code: GroveErrorCode = 'GROVE_ERR_BAD_INPUT'): never {
  throw new BadInputError(msg, code);
}

export function parsePredictRequest(
  body: unknown,
  v: LoadedVersion,
  maxRows: number,
  sharedAbove: number,
): ParsedRows {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    bad('request body must be a JSON object');
  const b = body as Record<string, unknown>;
  const rawFlag = b.raw;
  if (rawFlag !== undefined && rawFlag !== null && typeof rawFlag !== 'boolean')
    bad('"raw" must be a boolean');
  const raw = rawFlag === true;
  const contribFlag = b.contributions;
  if (contribFlag !== undefined && contribFlag !== null && typeof contribFlag !== 'boolean')
    bad('"contributions" must be a boolean');
  const contributions = contribFlag === true;
  let instances = b.instances;
  if (instances === undefined && b.inputs !== undefined) instances = columnsToRows(b.inputs);
  if (!Array.isArray(instances)) bad('"instances" must be an array of rows');
  const rows = instances.length;
  checkRows(rows, maxRows);
  if (v.sparse) return { input: null, named: sparseRows(instances), rows, raw, contributions };
  const F = v.numFeatures;
  const input = allocRows(rows * F, rows > sharedAbove);
  let unknown: Set<string> | null = null;
  for (let r = 0; r < rows; r++) {
    const row = instances[r];
    const base = r * F;
    if (Array.isArray(row)) {
      if (row.length !== F) {
        bad(
          `instances[${r}] has ${row.length} values; model ${v.name} version ${v.version} takes ${F}`,
          'GROVE_ERR_FEATURE_COUNT',
        );
      }
      for (let j = 0; j < F; j++) {
        const x = row[j];
        input[base + j] = typeof x === 'number' ? x : featureNumber(x, r);
      }
    } else if (row !== null && typeof row === 'object') {
      input.fill(Number.NaN, base, base + F);
      const idx = v.featureIndex;
      for (const k in row) {
        if (!Object.hasOwn(row, k)) continue;
        const j = idx.get(k);
        if (j === undefined) (unknown ??= new Set()).add(k);
        else input[base + j] = featureNumber((row as Record<string, unknown>)[k], r);
      }
    } else {
      bad(`instances[${r}] must be an array of values or an object of name -> value`);
    }
  }
  if (unknown !== null) throw new UnknownFeatureError([...unknown], v.featureIndex.keys());
  return { input, named: null, rows, raw, contributions };
}

/**
 * Sparse rows: objects whose values are numbers (null = absent), or strings / string lists; a list
 * row (FeatureHasher input_type 'string' or 'pair') goes to the model as it is, which checks it.
 */
function sparseRows(instances: unknown[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = new Array(instances.length);
  for (let r = 0; r < instances.length; r++) {
    const row = instances[r];
    if (Array.isArray(row)) {
      out[r] = row as unknown as Record<string, unknown>;
      continue;
    }
    if (row === null || typeof row !== 'object') {
      bad(`instances[${r}]: this model takes rows as name -> value objects`);
    }
    const clean: Record<string, unknown> = Object.create(null);
    for (const k in row) {
      if (!Object.hasOwn(row, k)) continue;
      const v = (row as Record<string, unknown>)[k];
      // DictVectorizer / FeatureHasher one-hot string values as "name=value" (sklearn): pass
      // strings and string lists through; the model validates them (shared/runtime/sklearn/linear).
      if (typeof v === 'string' || Array.isArray(v)) {
        clean[k] = v;
        continue;
      }
      const x = featureNumber(v, r);
      if (!Number.isNaN(x)) clean[k] = x;
    }
    out[r] = clean;
  }
  return out;
}

/** TF Serving's columnar format: {"inputs": {name: [values...]}} or a bare list of rows. */
function columnsToRows(inputs: unknown): unknown[] {
  if (Array.isArray(inputs)) return inputs;
  if (inputs === null || typeof inputs !== 'object')
    bad('"inputs" must be an object of columns or an array of rows');
  const names = Object.keys(inputs);
  if (names.length === 0) return [];
  const cols = names.map((n) => (inputs as Record<string, unknown>)[n]);
  const rows = Array.isArray(cols[0]) ? cols[0].length : -1;
  for (let i = 0; i < cols.length; i++) {
    if (!Array.isArray(cols[i]) || (cols[i] as unknown[]).length !== rows) {
      bad(`"inputs" columns must be arrays of the same length (column '${names[i]}')`, 'GROVE_ERR_BAD_SHAPE');
    }
  }
  const out: Record<string, unknown>[] = [];
  for (let r = 0; r < rows; r++) {
    const o: Record<string, unknown> = Object.create(null);
    for (let i = 0; i < names.length; i++) o[names[i]!] = (cols[i] as unknown[])[r];
    out.push(o);
  }
  return out;
}
