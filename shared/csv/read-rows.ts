// Reading prediction inputs for the CLI: CSV with a header row of feature names (an empty field is
// a missing value, as in the fixtures' test.csv) and NDJSON (one JSON object per line, feature name
// -> value). Columns map to the model's features by name when every header name is one of the
// model's; otherwise by position when the widths agree.
import { BadInputError, UnknownFeatureError } from '../errors/grove-error.js';
import { toNumber } from '../runtime/trees/named-rows.js';

/** Splits one CSV line (RFC 4180 quotes allowed). */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (q) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') q = false;
      else cur += ch;
    } else if (ch === '"') q = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function lines(text: string): string[] {
  const all = text.split(/\r?\n/);
  while (all.length && all[all.length - 1]!.trim() === '') all.pop();
  return all;
}

/** Parses a CSV field: empty / NaN = missing; numbers as JavaScript reads them; ±inf. */
export function parseField(s: string, column: string, row: number): number {
  const t = s.trim();
  if (t === '') return Number.NaN;
  const x = Number(t);
  if (!Number.isNaN(x)) return x;
  return toNumber(t, column, row);
}

export interface DenseRows {
  data: Float64Array;
  rows: number;
}

/** CSV text -> dense rows of `featureNames.length` columns in the model's order. */
export function csvToDense(text: string, featureNames: readonly string[]): DenseRows {
  const all = lines(text);
  if (all.length === 0)
    throw new BadInputError('input CSV is empty (it needs a header row of feature names)');
  const header = splitCsvLine(all[0]!).map((h) => h.trim());
  const F = featureNames.length;
  const index = new Map<string, number>();
  featureNames.forEach((n, i) => {
    index.set(n, i);
  });
  const unknown = header.filter((h) => !index.has(h));
  let colTo: Int32Array;
  if (unknown.length === 0) colTo = Int32Array.from(header, (h) => index.get(h)!);
  else if (header.length === F) colTo = Int32Array.from(header, (_, i) => i);
  else throw new UnknownFeatureError(unknown, featureNames);
  const n = all.length - 1;
  const data = new Float64Array(n * F).fill(Number.NaN);
  for (let r = 0; r < n; r++) {
    const fields = splitCsvLine(all[r + 1]!);
    if (fields.length !== header.length) {
      throw new BadInputError(
        `CSV line ${r + 2} has ${fields.length} fields; the header has ${header.length}`,
      );
    }
    for (let c = 0; c < fields.length; c++) data[r * F + colTo[c]!] = parseField(fields[c]!, header[c]!, r);
  }
  return { data, rows: n };
}

/**
 * NDJSON text -> one object per non-empty line. `lists`: a line may also be a list (the rows of a
 * FeatureHasher(input_type='string' | 'pair') model, which checks them).
 */
export function parseNdjson(text: string, lists = false): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  lines(text).forEach((line, i) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new BadInputError(`NDJSON line ${i + 1} is not valid JSON`);
    }
    if (v === null || typeof v !== 'object' || (Array.isArray(v) && !lists))
      throw new BadInputError(`NDJSON line ${i + 1} is not an object`);
    out.push(v as Record<string, unknown>);
  });
  return out;
}
