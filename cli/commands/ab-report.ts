// `grove ab-report --log DIR --labels labels.csv [--json OUT] [--md OUT]` (docs/monitoring.md,
// After an A/B test): joins the prediction log (worker/prediction-log/, NDJSON) with labels by request id
// and reports per version n, metrics with bootstrap 95% intervals, the difference to the baseline
// version and its p-value. labels.csv has columns id,label; a request of several rows is labelled
// per row as `<id>:<row>` (0-based). Exit 0 on success, 2 on error.
import { createReadStream } from 'node:fs';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { readCsvFile } from '../../shared/csv/csv-table.js';
import { textNumber } from '../../shared/runtime/values/feature-value.js';
import { checkInputFile, reportCliError } from '../cli-errors.js';
import { parseCommandArgs } from '../command-args.js';
import { evaluateModel, type ModelResult, type VersionSample } from '../compare/ab-evaluation.js';

const USAGE = `usage: grove ab-report --log DIR --labels labels.csv [--json OUT] [--md OUT]

  --log DIR         prediction log folder (worker --prediction-log), or one .ndjson file
  --labels CSV      columns id,label (multi-row requests: id '<request id>:<row>')
  --json FILE       write the result as JSON ('-' = stdout)
  --md FILE         write a Markdown report (default: Markdown to stdout)
  --baseline V      version the others are compared with (default: the lowest)
  --task T          binary | multiclass | regression (default: inferred)
  --bootstrap N     bootstrap resamples (default 1000); --seed S (default 42)
`;

async function logFiles(path: string): Promise<string[]> {
  const s = await stat(path);
  if (!s.isDirectory()) return [path];
  const names = (await readdir(path)).filter((n) => n.endsWith('.ndjson') || n.endsWith('.jsonl')).sort();
  return names.map((n) => join(path, n));
}

const OPTIONS = {
  log: { type: 'string' },
  labels: { type: 'string' },
  json: { type: 'string' },
  md: { type: 'string' },
  baseline: { type: 'string' },
  task: { type: 'string' },
  bootstrap: { type: 'string' },
  seed: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('ab-report', argv, OPTIONS, USAGE);
  if (typeof args === 'number') return args;
  if (!args.log || !args.labels) {
    process.stderr.write(`grove ab-report: --log and --labels are required\n\n${USAGE}`);
    return 2;
  }
  if (args.task && !['binary', 'multiclass', 'regression'].includes(args.task)) {
    process.stderr.write('grove ab-report: --task must be binary, multiclass or regression\n');
    return 2;
  }
  try {
    checkInputFile(args.labels, '--labels');
    const table = await readCsvFile(args.labels);
    const idCol = Math.max(0, table.header.indexOf('id'));
    const labelCol = table.header.indexOf('label') >= 0 ? table.header.indexOf('label') : 1;
    const labels = new Map<string, number>();
    for (const row of table.rows) {
      // A missing label (docs/formats.md) or one that is not a number leaves the row unlabelled.
      const v = textNumber(row[labelCol] ?? '');
      if (row[idCol] !== undefined && v !== undefined && Number.isFinite(v))
        labels.set(row[idCol]!.trim(), v);
    }
    const groups = new Map<string, Map<string, VersionSample>>();
    let records = 0;
    let joined = 0;
    let malformed = 0;
    for (const file of await logFiles(args.log)) {
      const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
      for await (const line of rl) {
        if (line.trim() === '') continue;
        let rec: {
          id?: unknown;
          model?: unknown;
          version?: unknown;
          sha256?: unknown;
          outputs?: unknown;
          raw?: unknown;
        };
        try {
          rec = JSON.parse(line);
        } catch {
          malformed++;
          continue;
        }
        if (
          typeof rec.id !== 'string' ||
          typeof rec.model !== 'string' ||
          !Array.isArray(rec.outputs) ||
          rec.raw === true
        ) {
          malformed++;
          continue;
        }
        records++;
        const version = String(rec.version);
        let byVersion = groups.get(rec.model);
        if (!byVersion) groups.set(rec.model, (byVersion = new Map()));
        let sample = byVersion.get(version);
        if (!sample)
          byVersion.set(version, (sample = { version, sha256: [], width: 0, outputs: [], labels: [] }));
        if (typeof rec.sha256 === 'string' && !sample.sha256.includes(rec.sha256))
          sample.sha256.push(rec.sha256);
        const outs = rec.outputs as unknown[];
        for (let r = 0; r < outs.length; r++) {
          const y =
            outs.length === 1
              ? (labels.get(rec.id) ?? labels.get(`${rec.id}:0`))
              : labels.get(`${rec.id}:${r}`);
          const o = outs[r];
          if (y === undefined || !Array.isArray(o)) continue;
          sample.outputs.push(o.map((v) => (typeof v === 'number' ? v : Number.NaN)));
          sample.labels.push(y);
          sample.width = Math.max(sample.width, o.length);
          joined++;
        }
      }
    }
    const iterations = args.bootstrap ? Number(args.bootstrap) : 1000;
    const seed = args.seed ? Number(args.seed) : 42;
    const models: ModelResult[] = [];
    for (const [model, byVersion] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
      models.push(
        evaluateModel(
          model,
          [...byVersion.values()].filter((s) => s.labels.length > 0),
          {
            seed,
            iterations,
            ...(args.baseline ? { baseline: args.baseline } : {}),
            ...(args.task ? { task: args.task as ModelResult['task'] } : {}),
          },
        ),
      );
    }
    const result = {
      log_records: records,
      malformed_records: malformed,
      labels: labels.size,
      joined_rows: joined,
      bootstrap: { iterations, seed, level: 0.95 },
      models: models.filter((m) => m.versions.length > 0),
    };
    if (args.json === '-') process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else if (args.json) await writeFile(args.json, `${JSON.stringify(result, null, 2)}\n`);
    const md = markdown(result);
    if (args.md) await writeFile(args.md, md);
    else if (args.json !== '-') process.stdout.write(md);
    return 0;
  } catch (err) {
    return reportCliError('ab-report', err);
  }
}

const f = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(5)).toString() : 'n/a');

function markdown(r: {
  log_records: number;
  joined_rows: number;
  labels: number;
  models: ModelResult[];
}): string {
  const out = [
    '# A/B report',
    '',
    `${r.log_records} logged requests, ${r.labels} labels, ${r.joined_rows} labelled rows joined.`,
    '',
  ];
  for (const m of r.models) {
    out.push(`## ${m.model} (${m.task})`, '');
    const metrics = Object.keys(m.versions[0]?.metrics ?? {}).filter((x) => !x.endsWith('_ci95'));
    out.push(
      `| version | n | ${metrics.map((x) => `${x} [95% CI]`).join(' | ')} |`,
      `|---|---:|${metrics.map(() => '---:').join('|')}|`,
    );
    for (const v of m.versions) {
      const cell = (x: string) => {
        const value = v.metrics[x];
        const ci = v.metrics[`${x}_ci95`];
        return typeof value === 'number' && Array.isArray(ci)
          ? `${f(value)} [${f(ci[0])}, ${f(ci[1])}]`
          : 'n/a';
      };
      out.push(`| ${v.version} | ${v.n} | ${metrics.map(cell).join(' | ')} |`);
    }
    if (m.comparisons.length > 0) {
      out.push(
        '',
        '| version vs baseline | metric | difference | test | p-value |',
        '|---|---|---:|---|---:|',
      );
      for (const c of m.comparisons)
        out.push(
          `| ${c.version} vs ${c.baseline} | ${c.metric} | ${f(c.difference)} | ${c.test} | ${f(c.p_value)} |`,
        );
    }
    out.push('');
  }
  return `${out.join('\n')}\n`;
}
