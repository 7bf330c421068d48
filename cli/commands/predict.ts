// `grove predict --model FILE --input rows.csv|rows.ndjson [--output out.csv] [--raw | --contributions]`
// (DESIGN.md, CLI): one output line per input row, the columns of the library's own
// predict/predict_proba (--raw: margin / decision_function), no header (the fixtures' pred.csv
// shape), every value in shortest round-trip form (String(x)) so nothing is lost.
// --contributions writes per-feature contributions instead (docs/explanations.md), with a header:
// `f0,...,bias`, or `class0:f0,...,class0:bias,class1:f0,...` for several margin columns.
import { readFile, writeFile } from 'node:fs/promises';
import { csvToDense, parseNdjson } from '../../shared/csv/read-rows.js';
import { GroveError } from '../../shared/errors/grove-error.js';
import { contributionColumns, explainerFor } from '../../shared/runtime/explain/index.js';
import { loadModelFile } from '../../shared/runtime/load.js';
import type { Model } from '../../shared/runtime/model.js';
import { NamedRowMapper } from '../../shared/runtime/trees/named-rows.js';
import { parseCommandArgs } from '../command-args.js';

const USAGE = `usage: grove predict --model FILE --input ROWS [--output OUT.csv] [--raw | --contributions]

  --model FILE      model file: XGBoost .json/.ubj, LightGBM .txt, scikit-learn .joblib/.pkl, .grove
  --input ROWS      CSV with a header row of feature names (empty field = missing),
                    or .ndjson: one JSON object per line, feature name -> value
  --output FILE     write the predictions here (default: stdout)
  --raw             margins / decision_function instead of predictions
  --contributions   per-feature contributions (TreeSHAP, in margin space) instead of predictions,
                    with a header row: f0,...,bias (class0:f0,... for several classes)
`;

/** Dense rows of a CSV or NDJSON input (named rows: absent = missing), for models that take columns. */
export function denseRowsOf(
  model: Model,
  text: string,
  ndjson: boolean,
): { data: Float64Array; rows: number } {
  if (!ndjson) return csvToDense(text, model.meta.featureNames);
  const named = parseNdjson(text, false);
  const data = new NamedRowMapper(model.meta.featureNames).toDense(named, model.meta.numFeatures);
  return { data, rows: named.length };
}

/** Contributions of every row of an input file: the CSV text with its header row. */
export function contributionsText(model: Model, text: string, ndjson: boolean): string {
  const e = explainerFor(model);
  const dense = denseRowsOf(model, text, ndjson);
  const values = new Float64Array(dense.rows * e.width);
  e.contributions(dense.data, dense.rows, values);
  return `${contributionColumns(model.meta.featureNames, e.numGroups).map(csvField).join(',')}\n${formatRows(values, e.width)}`;
}

/** A CSV field: quoted (quotes doubled) when it holds a comma, quote or line break. */
function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Predicts every row of an input file's text; returns the output rows' width and values. */
export function predictText(
  model: Model,
  text: string,
  ndjson: boolean,
  raw: boolean,
): { width: number; values: Float64Array } {
  const width = raw ? model.meta.rawOutputNames.length : model.meta.outputNames.length;
  if (ndjson || model.meta.sparse) {
    const rows = parseNdjson(text, model.meta.sparse);
    const values = new Float64Array(rows.length * width);
    model.predictNamed(rows, values, raw);
    return { width, values };
  }
  const dense = csvToDense(text, model.meta.featureNames);
  const values = new Float64Array(dense.rows * width);
  model.predict(dense.data, dense.rows, values, raw);
  return { width, values };
}

export function formatRows(values: Float64Array, width: number): string {
  const parts: string[] = [];
  for (let i = 0; i < values.length; i += width) {
    let line = String(values[i]);
    for (let k = 1; k < width; k++) line += ',' + String(values[i + k]);
    parts.push(line);
  }
  return parts.length ? parts.join('\n') + '\n' : '';
}

const OPTIONS = {
  model: { type: 'string' },
  input: { type: 'string' },
  output: { type: 'string' },
  raw: { type: 'boolean', default: false },
  contributions: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('predict', argv, OPTIONS, USAGE);
  if (typeof args === 'number') return args;
  if (!args.model || !args.input) {
    process.stderr.write(`grove predict: --model and --input are required\n\n${USAGE}`);
    return 2;
  }
  if (args.raw && args.contributions) {
    process.stderr.write('grove predict: --contributions are always in margin space; drop --raw\n');
    return 2;
  }
  try {
    const model = await loadModelFile(args.model);
    const text = await readFile(args.input, 'utf8');
    const ndjson = /\.(nd)?jsonl?$/i.test(args.input) || /^\s*\{/.test(text);
    let out: string;
    if (args.contributions) {
      out = contributionsText(model, text, ndjson);
    } else {
      const { width, values } = predictText(model, text, ndjson, args.raw ?? false);
      out = formatRows(values, width);
    }
    if (args.output) await writeFile(args.output, out);
    else process.stdout.write(out);
    return 0;
  } catch (err) {
    if (err instanceof GroveError) {
      process.stderr.write(`grove predict: ${err.message} (${err.code})\n`);
      return 1;
    }
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' || e.code === 'EISDIR' || e.code === 'EACCES') {
      process.stderr.write(`grove predict: ${e.message}\n`);
      return 1;
    }
    throw err;
  }
}
