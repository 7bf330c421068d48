// `npm run loadtest`: the scenario suite. Starts its own clusters on loopback (worker direct vs
// gateway vs nginx; the four policies with one slow worker; a 90/10 split; a hot swap; a killed
// worker), then writes loadtest/results/{results.json,results.md,index.html}. A few minutes in
// all; `--duration S` per run for longer measurements, `--only a,b` for some scenario groups.
// Exit code 1 when a scenario's expectation (e.g. zero failed requests) did not hold.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../shared/runtime-path.js';
import { MAX_DURATION_S } from './options.js';
import { renderHtml, renderMarkdown, type SuiteMeta } from './suite/results-report.js';
import type { ScenarioResult, SuiteSettings } from './suite/scenario-types.js';
import { SCENARIOS } from './suite/scenarios.js';

const USAGE = `usage: npm run loadtest -- [--duration S] [--warmup S (default 1)] [--connections N] [--rate R (policies; default: half the gateway's throughput)] [--slow-ms MS] [--only ${Object.keys(SCENARIOS).join(',')}] [--out DIR]
`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      rate: { type: 'string' },
      'slow-ms': { type: 'string' },
      only: { type: 'string' },
      out: { type: 'string' },
      models: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const durationS = Number(values.duration ?? 3);
  if (!(durationS > 0 && durationS <= MAX_DURATION_S))
    throw new Error(`--duration must be in (0, ${MAX_DURATION_S}]`);
  const warmupS = Number(values.warmup ?? 1);
  if (!(warmupS >= 0 && warmupS <= 60)) throw new Error('--warmup must be in [0, 60] seconds');
  const settings: SuiteSettings = {
    durationS,
    warmupS,
    connections: Number(values.connections ?? 16),
    // NaN: half the gateway's closed-loop throughput measured by the peers scenario (or 200/s).
    policyRate: values.rate === undefined ? Number.NaN : Number(values.rate),
    slowDelayMs: Number(values['slow-ms'] ?? 20),
    models: values.models ?? join(projectRoot, 'models'),
    only: values.only ? values.only.split(',') : [],
  };
  const outDir = values.out ?? join(projectRoot, 'loadtest', 'results');
  const cpu = cpus();
  const meta: SuiteMeta = {
    startedAt: new Date().toISOString(),
    node: process.version,
    cpus: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    durationS,
    note:
      `Each run follows an unrecorded ${warmupS} s warm-up. ` +
      'Load generator, gateway, workers and nginx share this machine: compare rows of one run, not across machines.',
  };

  const results: ScenarioResult[] = [];
  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    if (settings.only.length > 0 && !settings.only.includes(name)) continue;
    process.stderr.write(`== ${name}\n`);
    try {
      const produced = await scenario(settings);
      results.push(...produced);
      const gateway = produced.find((r) => r.name === 'gateway + 2 workers')?.report;
      if (Number.isNaN(settings.policyRate) && gateway) {
        // Below saturation, so the policies differ in how they treat the slow worker, not in
        // how the whole machine queues (the suite shares its cores with everything it starts).
        settings.policyRate = Math.max(50, Math.round(gateway.requests_per_sec / 2 / 10) * 10);
      }
    } catch (err) {
      process.stderr.write(`${name} failed: ${(err as Error).message}\n`);
      results.push({
        group: name,
        name,
        description: 'the scenario could not run',
        command: '',
        report: null,
        passed: false,
        notes: [(err as Error).message.split('\n')[0]!],
      });
    }
  }

  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'results.json'), JSON.stringify({ meta, results }, null, 2) + '\n');
  const md = renderMarkdown(results, meta);
  writeFileSync(join(outDir, 'results.md'), md);
  writeFileSync(join(outDir, 'index.html'), renderHtml(results, meta));
  process.stdout.write(`\n${md}\nwrote ${join(outDir, 'results.md')} and ${join(outDir, 'index.html')}\n`);
  return results.some((r) => r.passed === false) ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`loadtest suite: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    process.exitCode = 2;
  },
);
