// `grove predict --model FILE --input rows.csv|rows.ndjson [--output out.csv] [--raw]`
// (DESIGN.md, CLI): one output line per input row, the columns of the library's own
// predict/predict_proba (--raw: margin / decision_function), no header (the fixtures' pred.csv
// shape), every value in shortest round-trip form (String(x)) so nothing is lost.
import { readFile, writeFile } from 'node:fs/promises';
import { csvToDense, parseNdjson } from '../../shared/csv/read-rows.js';
import { loadModelFile } from '../../shared/runtime/load.js';
import type { Model } from '../../shared/runtime/model.js';
import { checkInputFile } from '../cli-errors.js';
import { parseCommandArgs } from '../command-args.js';

const USAGE = `usage: grove predict --model FILE --input ROWS [--output OUT.csv] [--raw]

  --model FILE    model file: XGBoost .json/.ubj, LightGBM .txt, scikit-learn .joblib/.pkl, .grove
  --input ROWS    CSV with a header row of feature names (empty field = missing),
                  or .ndjson: one JSON object per line, feature name -> value
  --output FILE   write the predictions here (default: stdout)
  --raw           margins / decision_function instead of predictions
`;

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
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('predict', argv, OPTIONS, USAGE);
  if (typeof args === 'number') return args;
  if (!args.model || !args.input) {
    process.stderr.write(`grove predict: --model and --input are required\n\n${USAGE}`);
    return 2;
  }
  // Failures go to the one CLI error path (cli-errors.ts): a coded line, exit 2.
  checkInputFile(args.model, '--model', 'model');
  checkInputFile(args.input, '--input');
  const model = await loadModelFile(args.model);
  const text = await readFile(args.input, 'utf8');
  const ndjson = /\.(nd)?jsonl?$/i.test(args.input) || /^\s*\{/.test(text);
  const { width, values } = predictText(model, text, ndjson, args.raw ?? false);
  const out = formatRows(values, width);
  if (args.output) await writeFile(args.output, out);
  else process.stdout.write(out);
  return 0;
}
