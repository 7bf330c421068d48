// `grove bench --model FILE --input CSV [--rows N] [--rounds K]`: batch and one-row predict time on
// this thread, after warm-up, best of K rounds (the machine is shared and noisy: best-of filters
// interference). Last line: `batch_ns_per_row=X single_ns_per_row=Y` (cli/bench-suite.ts reads it).
import { readFile } from 'node:fs/promises';
import { csvToDense } from '../../shared/csv/read-rows.js';
import { GroveError } from '../../shared/errors/grove-error.js';
import { loadModelFile } from '../../shared/runtime/load.js';
import type { Model } from '../../shared/runtime/model.js';
import { checkInputFile } from '../cli-errors.js';
import { parseCommandArgs } from '../command-args.js';

const USAGE = `usage: grove bench --model FILE --input CSV [--rows N] [--rounds K] [--raw]

  --rows N     rows per batch, repeating the file's rows (default 20000)
  --rounds K   timed rounds; the best is reported (default 7)
  --raw        time margins instead of transformed outputs
`;

export interface BenchResult {
  batchNsPerRow: number;
  singleNsPerRow: number;
}

export function benchModel(
  model: Model,
  file: Float64Array,
  fileRows: number,
  rows: number,
  rounds: number,
  raw: boolean,
): BenchResult {
  const F = model.meta.numFeatures;
  const W = raw ? model.meta.rawOutputNames.length : model.meta.outputNames.length;
  const input = new Float64Array(rows * F);
  for (let r = 0; r < rows; r++) input.set(file.subarray((r % fileRows) * F, (r % fileRows) * F + F), r * F);
  const out = new Float64Array(rows * W);
  model.predict(input, rows, out, raw); // warm-up: compile the kernels
  let batch = Number.POSITIVE_INFINITY;
  for (let k = 0; k < rounds; k++) {
    const t0 = process.hrtime.bigint();
    model.predict(input, rows, out, raw);
    batch = Math.min(batch, Number(process.hrtime.bigint() - t0));
  }
  const singleRows = Math.min(rows, 4000);
  const rowViews = Array.from({ length: singleRows }, (_, r) => input.subarray(r * F, r * F + F));
  const one = new Float64Array(W);
  for (let r = 0; r < singleRows; r++) model.predictOne(rowViews[r]!, one, raw);
  let single = Number.POSITIVE_INFINITY;
  for (let k = 0; k < rounds; k++) {
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < singleRows; r++) model.predictOne(rowViews[r]!, one, raw);
    single = Math.min(single, Number(process.hrtime.bigint() - t0));
  }
  return { batchNsPerRow: batch / rows, singleNsPerRow: single / singleRows };
}

const OPTIONS = {
  model: { type: 'string' },
  input: { type: 'string' },
  rows: { type: 'string', default: '20000' },
  rounds: { type: 'string', default: '7' },
  raw: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('bench', argv, OPTIONS, USAGE);
  if (typeof args === 'number') return args;
  const rows = Number(args.rows);
  const rounds = Number(args.rounds);
  if (!args.model || !args.input || !(rows >= 1) || !(rounds >= 1)) {
    process.stderr.write(
      `grove bench: --model and --input are required; --rows and --rounds are positive\n\n${USAGE}`,
    );
    return 2;
  }
  // Failures go to the one CLI error path (cli-errors.ts): a coded line, exit 2.
  checkInputFile(args.model, '--model', 'model');
  checkInputFile(args.input, '--input');
  const model = await loadModelFile(args.model);
  const dense = csvToDense(await readFile(args.input, 'utf8'), model.meta.featureNames);
  if (dense.rows === 0) throw new GroveError('input CSV has no rows', 'GROVE_ERR_BAD_INPUT');
  const r = benchModel(
    model,
    dense.data,
    dense.rows,
    Math.floor(rows),
    Math.floor(rounds),
    args.raw ?? false,
  );
  process.stdout.write(`model=${args.model} rows=${Math.floor(rows)} rounds=${Math.floor(rounds)}\n`);
  process.stdout.write(
    `batch_ns_per_row=${r.batchNsPerRow.toFixed(0)} single_ns_per_row=${r.singleNsPerRow.toFixed(0)}\n`,
  );
  return 0;
}
