// `grove predict --model FILE --input rows.csv|rows.ndjson [--output out.csv] [--raw | --contributions]`
// (docs/formats.md): one output line per input row, the columns of the library's own
// predict/predict_proba (--raw: margin / decision_function), no header (the fixtures' pred.csv
// shape), every value in shortest round-trip form (String(x)) so nothing is lost. The input is
// read as a stream (shared/csv), so its size is not limited by memory.
// --contributions writes per-feature contributions instead (docs/explanations.md), with a header:
// `f0,...,bias`, or `class0:f0,...,class0:bias,class1:f0,...` for several margin columns.
import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { csvField, formatCsvRows } from '../../shared/csv/csv-format.js';
import { stripBom } from '../../shared/csv/csv-records.js';
import { fileText, recordChunks, type TextSource } from '../../shared/csv/csv-stream.js';
import { denseChunks } from '../../shared/csv/dense-stream.js';
import { BadInputError, } from '../../shared/errors/grove-error.js';
import { contributionColumns, explainerFor } from '../../shared/runtime/explain/index.js';
import { loadModelFileBounded } from '../../shared/runtime/isolation/model-loader.js';
import type { Model } from '../../shared/runtime/model.js';
import { NamedRowMapper } from '../../shared/runtime/trees/named-rows.js';
import { checkInputFile } from '../cli-errors.js';
import { parseCommandArgs } from '../command-args.js';
import { LOAD_CLI_OPTIONS, LOAD_CLI_USAGE, loadLimitsFromArgs } from '../load-options.js';

const USAGE = `usage: grove predict --model FILE --input ROWS [--output OUT.csv] [--raw]

  --model FILE    model file: XGBoost .json/.ubj, LightGBM .txt, scikit-learn .joblib/.pkl, .grove
  --input ROWS    CSV with a header row of feature names (empty field, NA, NaN, null...
                  = missing: docs/formats.md), or .ndjson: one JSON object per line,
                  feature name -> value
  --output FILE   write the predictions here (default: stdout)
  --raw           margins / decision_function instead of predictions
  --contributions per-feature contributions (TreeSHAP, in margin space) instead of predictions,
                  with a header row: f0,...,bias (class0:f0,... for several classes)
${LOAD_CLI_USAGE}`;

/**
 * Predicts every row of an input stream chunk by chunk, handing each chunk's output lines to
 * `write` before reading on: a file of any length runs in bounded memory.
 */
export async function predictStream(
  model: Model,
  source: TextSource,
  ndjson: boolean,
  raw: boolean,
  write: (lines: string) => Promise<void>,
): Promise<void> {
  const width = raw ? model.meta.rawOutputNames.length : model.meta.outputNames.length;
  if (ndjson || model.meta.sparse) {
    for await (const chunk of recordChunks(source, false)) {
      const rows = ndjsonRows(chunk.text, chunk.firstLine, model.meta.sparse);
      const values = new Float64Array(rows.length * width);
      model.predictNamed(rows, values, raw);
      await write(formatCsvRows(values, rows.length, width));
    }
    return;
  }
  for await (const dense of denseChunks(source, model.meta.featureNames)) {
    const values = new Float64Array(dense.rows * width);
    model.predict(dense.data, dense.rows, values, raw);
    await write(formatCsvRows(values, dense.rows, width));
  }
}

/** Dense chunks of a CSV or NDJSON input (named rows: absent = missing), for models taking columns. */
export async function* denseInputChunks(
  model: Model,
  source: TextSource,
  ndjson: boolean,
): AsyncGenerator<{ data: Float64Array; rows: number }> {
  if (!ndjson) {
    yield* denseChunks(source, model.meta.featureNames);
    return;
  }
  const mapper = new NamedRowMapper(model.meta.featureNames);
  for await (const chunk of recordChunks(source, false)) {
    const named = ndjsonRows(chunk.text, chunk.firstLine, false);
    yield { data: mapper.toDense(named, model.meta.numFeatures), rows: named.length };
  }
}

/** Contributions of every row of an input stream, chunk by chunk, after their header row. */
export async function contributionsStream(
  model: Model,
  source: TextSource,
  ndjson: boolean,
  write: (lines: string) => Promise<void>,
): Promise<void> {
  const e = explainerFor(model);
  await write(`${contributionColumns(model.meta.featureNames, e.numGroups).map(csvField).join(',')}\n`);
  for await (const dense of denseInputChunks(model, source, ndjson)) {
    const values = new Float64Array(dense.rows * e.width);
    e.contributions(dense.data, dense.rows, values);
    await write(formatCsvRows(values, dense.rows, e.width));
  }
}

/**
 * One object per non-empty NDJSON line. `lists`: a line may also be a list (the rows of a
 * FeatureHasher(input_type='string' | 'pair') model, which checks them).
 */
function ndjsonRows(text: string, firstLine: number, lists: boolean): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new BadInputError(`NDJSON line ${firstLine + i} is not valid JSON`, 'GROVE_ERR_BAD_JSON');
    }
    if (v === null || typeof v !== 'object' || (Array.isArray(v) && !lists))
      throw new BadInputError(`NDJSON line ${firstLine + i} is not an object`);
    out.push(v as Record<string, unknown>);
  });
  return out;
}

/** NDJSON by extension, else by a first character of `{` (CSV headers do not start with one). */
export async function isNdjson(path: string): Promise<boolean> {
  if (/\.(nd)?jsonl?$/i.test(path)) return true;
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(256);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return /^\s*\{/.test(stripBom(head.subarray(0, bytesRead).toString('utf8')));
  } finally {
    await fh.close();
  }
}

/** Writes and waits for the stream to take more (backpressure), so output never piles up. */
function writeTo(stream: Writable, text: string): Promise<void> {
  if (text.length === 0 || stream.write(text)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      stream.off('drain', done);
      stream.off('error', done);
      if (err) reject(err);
      else resolve();
    };
    stream.once('drain', done);
    stream.once('error', done);
  });
}

const OPTIONS = {
  model: { type: 'string' },
  input: { type: 'string' },
  output: { type: 'string' },
  raw: { type: 'boolean', default: false },
  contributions: { type: 'boolean', default: false },
  ...LOAD_CLI_OPTIONS,
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
  // Failures go to the one CLI error path (cli-errors.ts): a coded line, exit 2.
  checkInputFile(args.model, '--model', 'model');
  checkInputFile(args.input, '--input');
  const limits = loadLimitsFromArgs(args);
  // The same bounded, isolated load as a worker's (a file is untrusted wherever it comes from).
  const model = await loadModelFileBounded(args.model, limits);
  const ndjson = await isNdjson(args.input);
  const source = fileText(args.input);
  const run = (write: (lines: string) => Promise<void>) =>
    args.contributions
      ? contributionsStream(model, source, ndjson, write)
      : predictStream(model, source, ndjson, args.raw ?? false, write);
  if (!args.output) {
    await run((lines) => writeTo(process.stdout, lines));
    return 0;
  }
  // The output appears whole or not at all: written beside it, renamed when every row is done.
  const partial = `${args.output}.partial-${process.pid}`;
  const out = createWriteStream(partial);
  try {
    await run((lines) => writeTo(out, lines));
    await new Promise<void>((resolve, reject) =>
      out.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
    await rename(partial, args.output);
  } catch (err) {
    out.destroy();
    await rm(partial, { force: true });
    throw err;
  }
  return 0;
}
