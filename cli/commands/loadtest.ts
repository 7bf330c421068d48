// `grove loadtest`: drive a running gateway or worker and report throughput, latency percentiles,
// errors and per-version shares (loadtest/ holds the engines; this file is the CLI surface).
import { writeFileSync } from 'node:fs';
import { isLoopback, parseLoadtestArgs, USAGE } from '../../loadtest/options.js';
import { formatReportTable } from '../../loadtest/report-table.js';
import { runLoadtest } from '../../loadtest/run-loadtest.js';
import { GroveError } from '../../shared/errors/grove-error.js';
import { EXIT_NEGATIVE, EXIT_OK } from '../cli-errors.js';

/** A terminal redraws one progress line in place (\r); a log file or CI gets one line a second. */
function progressWriter(): (line: string) => void {
  if (process.stderr.isTTY) return (line) => process.stderr.write(line);
  return (line) => {
    const text = line.replace(/^\r/, '').trimEnd();
    if (text) process.stderr.write(`${text}\n`);
  };
}

export async function run(argv: string[]): Promise<number> {
  let options: ReturnType<typeof parseLoadtestArgs>;
  try {
    options = parseLoadtestArgs(argv);
  } catch (err) {
    if (err instanceof GroveError) {
      process.stderr.write(`grove loadtest: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  if (options === null) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!isLoopback(options.url)) {
    // Only a host the user named is loaded: the default is loopback.
    process.stderr.write(
      `grove loadtest: loading ${options.url} (not a loopback address) for ${options.durationS} s\n`,
    );
  }
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  try {
    const report = await runLoadtest(options, {
      progress: options.quiet ? null : progressWriter(),
      signal: abort.signal,
    });
    const json = JSON.stringify(report, null, 2) + '\n';
    if (options.json === '-') {
      // JSON on stdout for pipes (`grove loadtest --json | jq .latency`); the table goes to stderr.
      process.stderr.write(formatReportTable(report));
      process.stdout.write(json);
    } else {
      process.stdout.write(formatReportTable(report));
      if (options.json) writeFileSync(options.json, json);
    }
    if (report.error_rate > options.maxErrorRate) {
      // A load test whose requests fail measured nothing: say so in the exit status.
      const pct = (x: number) => `${Number((100 * x).toFixed(2))}%`;
      process.stderr.write(
        `grove loadtest: ${pct(report.error_rate)} of requests failed, more than --max-error-rate ${pct(options.maxErrorRate)} (see 'first errors' above)\n`,
      );
      return EXIT_NEGATIVE;
    }
    return EXIT_OK;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
