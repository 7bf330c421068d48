// `grove compare --model CURRENT --candidate NEW --data rows.csv [--label COL] [--json OUT]
// [--html OUT] [--max-regression 0.01] [--metric auc|logloss|accuracy|rmse|mae] [--diff-only]`:
// the promotion gate (docs/ab-testing.md). Exit 0 promote, 1 reject, 2 not evaluated (no labels and
// no --diff-only: a gate never promotes blind) or error (bad arguments, unreadable files, models
// that do not answer the same question).
import { writeFile } from 'node:fs/promises';
import { readCsvFile } from '../../shared/csv/csv-table.js';
import { GroveError } from '../../shared/errors/grove-error.js';
import { loadModelFileBounded } from '../../shared/runtime/isolation/model-loader.js';
import { checkInputFile, EXIT_ERROR, EXIT_NEGATIVE, EXIT_OK } from '../cli-errors.js';
import { parseCommandArgs } from '../command-args.js';
import { compareModels } from '../compare/compare-models.js';
import { renderCompareHtml } from '../compare/html-report.js';
import type { VerdictRule } from '../compare/verdict.js';

const USAGE = `usage: grove compare --model CURRENT --candidate NEW --data rows.csv [options]

  --model FILE            the model serving now
  --candidate FILE        the model that would replace it
  --data CSV              rows to score (header of feature names, empty field = missing)
  --label COL             label column: adds metrics with bootstrap 95% intervals
  --json FILE             write the full result as JSON ('-' = stdout)
  --html FILE             write an HTML report with charts
  --metric NAME           primary metric (binary: auc; multiclass: logloss; regression: rmse)
  --max-regression X      reject if the primary metric is worse by more than X (default 0.01)
  --max-mean-diff X       also reject if predictions move more than X on average
  --diff-only             without --label, gate on prediction differences alone (needs
                          --max-mean-diff); otherwise no labels means no verdict (exit 2)
  --allow-missing-features  do not reject a candidate that lacks features the current model uses
  --bootstrap N           bootstrap resamples (default 1000); --seed S (default 42)

exit status: 0 promote, 1 reject, 2 not evaluated (no --label, no --diff-only) or error
`;

const OPTIONS = {
  model: { type: 'string' },
  candidate: { type: 'string' },
  data: { type: 'string' },
  label: { type: 'string' },
  json: { type: 'string' },
  html: { type: 'string' },
  metric: { type: 'string' },
  'max-regression': { type: 'string' },
  'max-mean-diff': { type: 'string' },
  'allow-missing-features': { type: 'boolean', default: false },
  'diff-only': { type: 'boolean', default: false },
  bootstrap: { type: 'string' },
  seed: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('compare', argv, OPTIONS, USAGE);
  if (typeof args === 'number') return args;
  if (!args.model || !args.candidate || !args.data) {
    process.stderr.write(`grove compare: --model, --candidate and --data are required\n\n${USAGE}`);
    return 2;
  }
  const num = (s: string | undefined, dflt: number | null, name: string): number | null => {
    if (s === undefined) return dflt;
    const v = Number(s);
    if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a non-negative number`);
    return v;
  };
  let rule: VerdictRule;
  let iterations: number;
  let seed: number;
  try {
    rule = {
      metric: args.metric ?? null,
      maxRegression: num(args['max-regression'], 0.01, 'max-regression')!,
      maxMeanDiff: num(args['max-mean-diff'], null, 'max-mean-diff'),
      requireFeatures: !args['allow-missing-features'],
      diffOnly: args['diff-only'] === true,
    };
    if (rule.diffOnly && rule.maxMeanDiff === null)
      throw new Error('--diff-only gates on --max-mean-diff X: give the largest mean change you accept');
    iterations = num(args.bootstrap, 1000, 'bootstrap')!;
    seed = num(args.seed, 42, 'seed')!;
    if (!Number.isInteger(iterations) || iterations < 10)
      throw new Error('--bootstrap must be an integer >= 10');
    if (rule.metric && !['auc', 'logloss', 'accuracy', 'rmse', 'mae'].includes(rule.metric)) {
      throw new Error(`--metric must be one of auc, logloss, accuracy, rmse, mae`);
    }
  } catch (err) {
    process.stderr.write(`grove compare: ${(err as Error).message}\n`);
    return 2;
  }
  // Failures go to the one CLI error path (cli-errors.ts): a coded line, exit 2.
  checkInputFile(args.model, '--model', 'model');
  checkInputFile(args.candidate, '--candidate', 'model');
  checkInputFile(args.data, '--data');
  const [current, candidate, table] = await Promise.all([
    // Bounded and isolated, as a worker loads (docs/formats.md "Untrusted files").
    loadModelFileBounded(args.model),
    loadModelFileBounded(args.candidate),
    readCsvFile(args.data),
  ]);
  const report = compareModels(current, candidate, table, {
    currentName: args.model,
    candidateName: args.candidate,
    label: args.label,
    rule,
    seed,
    iterations,
  });
  const { _charts, _intervals, ...json } = report;
  const text = `${JSON.stringify(json, null, 2)}\n`;
  if (args.json === '-') process.stdout.write(text);
  else if (args.json) await writeFile(args.json, text);
  if (args.html) await writeFile(args.html, renderCompareHtml(report));
  process.stderr.write(`${summary(report)}\n`);
  if (report.verdict === 'not_evaluated') {
    const e = new GroveError('the candidate was not evaluated', 'GROVE_ERR_NOT_EVALUATED');
    process.stderr.write(`grove compare: ${e.message} (${e.code})\n`);
    return EXIT_ERROR;
  }
  return report.verdict === 'promote' ? EXIT_OK : EXIT_NEGATIVE;
}

function summary(r: ReturnType<typeof compareModels>): string {
  const lines = [
    `grove compare: ${r.verdict.replace('_', ' ').toUpperCase()}`,
    `  rows ${r.rows}; prediction diff max ${r.prediction_diff.max_abs.toPrecision(4)}, mean ${r.prediction_diff.mean_abs.toPrecision(4)}` +
      (r.prediction_diff.class_agreement === null
        ? ''
        : `, class agreement ${(r.prediction_diff.class_agreement * 100).toFixed(2)}%`),
  ];
  if (r._intervals) {
    for (const m of Object.keys(r._intervals.current)) {
      const c = r._intervals.current[m]!;
      const n = r._intervals.candidate[m]!;
      lines.push(
        `  ${m.padEnd(9)} current ${c.value.toFixed(5)} [${c.ci_low.toFixed(5)}, ${c.ci_high.toFixed(5)}]  candidate ${n.value.toFixed(5)} [${n.ci_low.toFixed(5)}, ${n.ci_high.toFixed(5)}]`,
      );
    }
  }
  for (const reason of r.reasons) lines.push(`  - ${reason}`);
  return lines.join('\n');
}
