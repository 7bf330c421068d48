#!/usr/bin/env node
// `grove`: the command-line entry. Each subcommand lives in cli/commands/<name>.ts and exports
// `run(argv): Promise<number>` (the exit code); modules load lazily so `grove predict` does not
// pay for the gateway's imports.
import { reportCliError } from './cli-errors.js';

const COMMANDS: Record<string, string> = {
  serve: 'Serve a model repository: gateway + N local workers',
  worker: 'Run one worker process over a model repository',
  gateway: 'Run a gateway over static upstreams or Consul-discovered workers',
  stream: 'Score rows from a NATS JetStream subject onto another, exactly once by id',
  predict: 'Predict a CSV (or NDJSON) of rows with a model file',
  explain: 'Feature importance: mean |contribution| over rows, and what the model file records',
  convert: "Convert a model file to grove's binary format",
  export: 'Export a model as one self-contained JavaScript module (browsers, Node, edge)',
  bench: 'Measure batch and one-row predict time of a model on one thread',
  profile: "Write a model's training profile (for drift monitoring)",
  compare: 'Compare a candidate model with the current one (the promotion gate)',
  'ab-report': 'Evaluate an A/B test from the prediction log and labels',
  split: "Set a model's A/B split weights on a running gateway",
  models: 'List, load or unload models on a running worker (repository API)',
  loadtest: 'Drive a running endpoint with autocannon and report latency and throughput',
  pull: 'Download a model file over HTTP(S) into a repository folder, sha256-checked',
  jobs: 'Submit, follow and fetch durable prediction jobs on a running gateway',
};

/** Commands that run until stopped; their stdout is a log. */
const SERVERS = new Set(['serve', 'worker', 'gateway', 'stream']);

function usage(): string {
  const lines = ['usage: grove <command> [options]', '', 'commands:'];
  for (const [name, text] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${text}`);
  lines.push('', "run 'grove <command> --help' for a command's options");
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  if (!Object.hasOwn(COMMANDS, name)) {
    process.stderr.write(`grove: unknown command '${name}'\n\n${usage()}\n`);
    return 2;
  }
  // A reader that stops early (`grove predict ... | head`) closes stdout: the rest of the output is
  // not wanted, so the command ends quietly with status 0 instead of reporting EPIPE. A server
  // (whose stdout carries only its log) keeps serving.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    if (!SERVERS.has(name)) process.exit(0);
  });
  const mod = (await import(`./commands/${name}.js`)) as { run(argv: string[]): Promise<number> };
  try {
    return await mod.run(rest);
  } catch (err) {
    // Every command's failures end here: one coded line, exit 2, no stack (cli-errors.ts).
    return reportCliError(name, err);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // Long-running commands (serve, worker, gateway) resolve only when they are done.
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = reportCliError('', err);
  },
);
