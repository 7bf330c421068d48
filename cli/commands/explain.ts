// `grove explain --model FILE --input rows.csv|rows.ndjson [--html report.html] [--json out.json]
// [--top N]`: global feature importance: the mean |contribution| of each feature over the rows
// (exact TreeSHAP; docs/explanations.md) beside the splits and gain the model file records, as a
// table, JSON and an HTML report with bar charts. Per-row contributions: `grove predict --contributions`.
import { writeFile } from 'node:fs/promises';
import { fileText } from '../../shared/csv/csv-stream.js';
import { GroveError } from '../../shared/errors/grove-error.js';
import { fileImportance, meanAbsContributions } from '../../shared/runtime/explain/importance.js';
import { explainerFor } from '../../shared/runtime/explain/index.js';
import { loadModelFileBounded } from '../../shared/runtime/isolation/model-loader.js';
import type { Model } from '../../shared/runtime/model.js';
import { parseCommandArgs } from '../command-args.js';
import { buildExplainReport, explainTable, renderExplainHtml } from '../explain/explain-report.js';
import { denseInputChunks, isNdjson } from './predict.js';

const USAGE = `usage: grove explain --model FILE --input ROWS [--html OUT.html] [--json OUT.json] [--top N]

  --model FILE    model file: XGBoost .json/.ubj, LightGBM .txt, scikit-learn .joblib/.pkl, .grove
  --input ROWS    rows to explain: CSV with a header of feature names (empty field = missing),
                  or .ndjson (one JSON object per line)
  --html FILE     write an HTML report with bar charts
  --json FILE     write the result as JSON ('-' = stdout)
  --top N         features in the table and charts (default 20; the JSON has all)
`;

const OPTIONS = {
  model: { type: 'string' },
  input: { type: 'string' },
  html: { type: 'string' },
  json: { type: 'string' },
  top: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('explain', argv, OPTIONS, USAGE);
  if (typeof args === 'number') return args;
  const top = args.top === undefined ? 20 : Number(args.top);
  if (!args.model || !args.input || !(Number.isInteger(top) && top >= 1)) {
    process.stderr.write(
      `grove explain: --model and --input are required; --top is a positive integer\n\n${USAGE}`,
    );
    return 2;
  }
  try {
    // Bounded and isolated, as a worker loads (docs/formats.md "Untrusted files").
    const model = await loadModelFileBounded(args.model);
    const explainer = explainerFor(model);
    const dense = await denseInput(model, args.input);
    if (dense.rows === 0) throw new GroveError('the input has no rows', 'GROVE_ERR_BAD_INPUT');
    const imp = meanAbsContributions(explainer, dense.data, dense.rows);
    const report = buildExplainReport(args.model, model.meta, imp, fileImportance(model));
    if (args.json !== '-') process.stdout.write(explainTable(report, top));
    if (args.json) {
      const json = `${JSON.stringify(report, null, 2)}\n`;
      if (args.json === '-') process.stdout.write(json);
      else await writeFile(args.json, json);
    }
    if (args.html) await writeFile(args.html, renderExplainHtml(report, top));
    return 0;
  } catch (err) {
    if (err instanceof GroveError) {
      process.stderr.write(`grove explain: ${err.message} (${err.code})\n`);
      return 1;
    }
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' || e.code === 'EISDIR' || e.code === 'EACCES') {
      process.stderr.write(`grove explain: ${e.message}\n`);
      return 1;
    }
    throw err;
  }
}

/** Every row of the input as one dense block (the importance is a mean over all of them). */
async function denseInput(model: Model, path: string): Promise<{ data: Float64Array; rows: number }> {
  const parts: Float64Array[] = [];
  let rows = 0;
  for await (const d of denseInputChunks(model, fileText(path), await isNdjson(path))) {
    parts.push(d.data);
    rows += d.rows;
  }
  const data = new Float64Array(rows * model.meta.numFeatures);
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  return { data, rows };
}
