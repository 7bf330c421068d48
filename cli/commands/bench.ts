// `grove bench --model FILE --input CSV [--rows N] [--rounds K]`: batch and one-row predict time on
// this thread, after warm-up, best of K rounds (the machine is shared and noisy: best-of filters
// interference). Last line: `batch_ns_per_row=X single_ns_per_row=Y` (cli/bench-suite.ts reads it);
// --contributions adds the same in CPU time (`batch_cpu_ns_per_row`, `single_cpu_ns_per_row`).
import { fileText } from '../../shared/csv/csv-stream.js';
import { readDenseRows } from '../../shared/csv/dense-stream.js';
import { GroveError } from '../../shared/errors/grove-error.js';
import { type Explainer, explainerFor } from '../../shared/runtime/explain/index.js';
import { loadModelFileBounded } from '../../shared/runtime/isolation/model-loader.js';
import type { Model } from '../../shared/runtime/model.js';
import { checkInputFile } from '../cli-errors.js';
import { parseCommandArgs } from '../command-args.js';
import { LOAD_CLI_OPTIONS, LOAD_CLI_USAGE, loadLimitsFromArgs } from '../load-options.js';

const USAGE = `usage: grove bench --model FILE --input CSV [--rows N] [--rounds K] [--raw | --contributions]

  --rows N          rows per batch, repeating the file's rows (default 20000)
  --rounds K        timed rounds; the best is reported (default 7)
  --raw             time margins instead of transformed outputs
  --contributions   time per-feature contributions (TreeSHAP; docs/explanations.md)
${LOAD_CLI_USAGE}`;

export interface BenchResult {
  batchNsPerRow: number;
  singleNsPerRow: number;
  /** CPU time of this process (user + system) per row, best round: steadier on a shared machine. */
  batchCpuNsPerRow?: number;
  singleCpuNsPerRow?: number;
}

/** Runs `f` `rounds` times; the best wall and CPU nanoseconds of a round. */
function bestOf(rounds: number, f: () => void): { wall: number; cpu: number } {
  let wall = Number.POSITIVE_INFINITY;
  let cpu = Number.POSITIVE_INFINITY;
  for (let k = 0; k < rounds; k++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    f();
    wall = Math.min(wall, Number(process.hrtime.bigint() - t0));
    const c = process.cpuUsage(c0);
    cpu = Math.min(cpu, (c.user + c.system) * 1000);
  }
  return { wall, cpu };
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

/** The same timing for contributions (one-row calls: up to 1000 rows, each its own call). */
export function benchContributions(
  explainer: Explainer,
  file: Float64Array,
  fileRows: number,
  rows: number,
  rounds: number,
): BenchResult {
  const F = explainer.numFeatures;
  const input = new Float64Array(rows * F);
  for (let r = 0; r < rows; r++) input.set(file.subarray((r % fileRows) * F, (r % fileRows) * F + F), r * F);
  const out = new Float64Array(rows * explainer.width);
  explainer.contributions(input, Math.min(rows, 200), out); // warm-up: compile the passes
  const batch = bestOf(rounds, () => explainer.contributions(input, rows, out));
  const singleRows = Math.min(rows, 1000);
  const rowViews = Array.from({ length: singleRows }, (_, r) => input.subarray(r * F, r * F + F));
  const one = new Float64Array(explainer.width);
  const single = bestOf(rounds, () => {
    for (let r = 0; r < singleRows; r++) explainer.contributions(rowViews[r]!, 1, one);
  });
  return {
    batchNsPerRow: batch.wall / rows,
    singleNsPerRow: single.wall / singleRows,
    batchCpuNsPerRow: batch.cpu / rows,
    singleCpuNsPerRow: single.cpu / singleRows,
  };
}

const OPTIONS = {
  model: { type: 'string' },
  input: { type: 'string' },
  rows: { type: 'string', default: '20000' },
  rounds: { type: 'string', default: '7' },
  raw: { type: 'boolean', default: false },
  contributions: { type: 'boolean', default: false },
  ...LOAD_CLI_OPTIONS,
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
  const limits = loadLimitsFromArgs(args);
  // The bounded, isolated load a worker does; its wall time is reported as load_ms.
  const t0 = performance.now();
  const model = await loadModelFileBounded(args.model, limits);
  const loadMs = performance.now() - t0;
  const dense = await readDenseRows(fileText(args.input), model.meta.featureNames);
  if (dense.rows === 0) throw new GroveError('input CSV has no rows', 'GROVE_ERR_BAD_INPUT');
  const r = args.contributions
    ? benchContributions(explainerFor(model), dense.data, dense.rows, Math.floor(rows), Math.floor(rounds))
    : benchModel(model, dense.data, dense.rows, Math.floor(rows), Math.floor(rounds), args.raw ?? false);
  process.stdout.write(
    `model=${args.model} rows=${Math.floor(rows)} rounds=${Math.floor(rounds)} load_ms=${loadMs.toFixed(1)}\n`,
  );
  const cpu =
    r.batchCpuNsPerRow === undefined
      ? ''
      : ` batch_cpu_ns_per_row=${r.batchCpuNsPerRow.toFixed(0)} single_cpu_ns_per_row=${r.singleCpuNsPerRow!.toFixed(0)}`;
  process.stdout.write(
    `batch_ns_per_row=${r.batchNsPerRow.toFixed(0)} single_ns_per_row=${r.singleNsPerRow.toFixed(0)}${cpu}\n`,
  );
  return 0;
}
