// `grove loadtest` options: parsing and validation, kept apart from the engines so they are unit
// tested without a server. Every run is bounded in time (--duration, at most MAX_DURATION_S).
import { parseArgs } from 'node:util';
import { BadInputError } from '../shared/errors/grove-error.js';

export const MAX_DURATION_S = 3600;

export type Protocol = 'v1' | 'v2';

export interface LoadtestOptions {
  /** Base URL of a grove gateway or worker (scheme, host, port). */
  url: string;
  /** Model name; null = the first model `GET /v2/models` lists. */
  model: string | null;
  /** Explicit version (in the URL path); null = let the gateway's split choose. */
  version: string | null;
  rowsPerRequest: number;
  connections: number;
  durationS: number;
  /** Fixed request rate (requests/s over all connections); null = closed loop, as fast as possible. */
  rate: number | null;
  /** Number of distinct x-user-id values (0 = no sticky header). */
  stickyUsers: number;
  protocol: Protocol;
  /** CSV of rows (header = feature names, empty field = missing); null = rows drawn from the model's metadata. */
  input: string | null;
  seed: number;
  /** Per-request timeout in seconds. */
  timeoutS: number;
  json: string | null;
  /** No progress ticker on stderr. */
  quiet: boolean;
  /** `grove loadtest` exits 1 when more than this fraction of requests failed. */
  maxErrorRate: number;
}

export const USAGE = `usage: grove loadtest [options]

Drives a running grove endpoint with real prediction requests and reports throughput, latency
percentiles, errors and which model versions answered.

  --url URL               gateway or worker base URL (default: env GROVE_URL, else http://127.0.0.1:8080)
  --model NAME            model to call (default: the first one GET /v2/models lists)
  --version V             call this version explicitly (default: the gateway's split decides)
  --rows-per-request N    rows in each request body (default 1)
  --connections N         concurrent connections (default 10)
  --duration S            seconds to run, at most ${MAX_DURATION_S} (default 10)
  --rate R                fixed rate of R requests/s (open loop: latency is measured from each
                          request's intended send time, so a stalled server cannot hide queueing)
  --sticky-users N        send x-user-id from N simulated users (shows per-version shares)
  --protocol v1|v2        v1 = {"instances": ...}, v2 = Open Inference Protocol (default v2)
  --input CSV             rows to send (header = feature names, empty field = missing);
                          default: rows drawn from the model's metadata with a fixed seed
  --seed N                seed for synthetic rows and user ids (default 42)
  --timeout S             per-request timeout in seconds (default 10)
  --json [OUT]            also write the report as JSON to OUT; without OUT (or '-'),
                          print the JSON on stdout and the table on stderr
  --quiet                 no progress line on stderr
  --max-error-rate X      exit 1 when more than this fraction of requests fail (no response
                          or non-2xx; default 0.01); the first failures are printed either way
  -h, --help              this help

exit status: 0 the run's error rate is within --max-error-rate, 1 it is not, 2 error
`;

function positiveInt(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new BadInputError(`--${name} must be an integer >= ${min}, got '${value}'`);
  return n;
}

function positiveNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new BadInputError(`--${name} must be a positive number, got '${value}'`);
  return n;
}

/** Parses argv; returns null when --help was asked for. Throws BadInputError on bad options. */
export function parseLoadtestArgs(argv: string[]): LoadtestOptions | null {
  let values: Record<string, string | boolean | undefined>;
  // `--json` may come without a file: it then means stdout ('-'). parseArgs has no optional
  // values, so a bare --json (last, or followed by another option) gets '-' inserted.
  const args: string[] = [];
  argv.forEach((a, i) => {
    args.push(a);
    if (a === '--json' && (i === argv.length - 1 || (argv[i + 1]!.startsWith('-') && argv[i + 1] !== '-')))
      args.push('-');
  });
  try {
    ({ values } = parseArgs({
      args,
      allowPositionals: false,
      strict: true,
      options: {
        url: { type: 'string' },
        model: { type: 'string' },
        version: { type: 'string' },
        'rows-per-request': { type: 'string' },
        connections: { type: 'string', short: 'c' },
        duration: { type: 'string', short: 'd' },
        rate: { type: 'string' },
        'sticky-users': { type: 'string' },
        protocol: { type: 'string' },
        input: { type: 'string' },
        seed: { type: 'string' },
        timeout: { type: 'string' },
        json: { type: 'string' },
        quiet: { type: 'boolean' },
        'max-error-rate': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new BadInputError((err as Error).message);
  }
  if (values.help) return null;
  const str = (k: string) => values[k] as string | undefined;

  const url = str('url') ?? process.env.GROVE_URL ?? 'http://127.0.0.1:8080';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BadInputError(`--url is not a URL: '${url}'`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new BadInputError(`--url must be http:// or https://, got '${parsed.protocol}'`);
  }
  const protocol = str('protocol') ?? 'v2';
  if (protocol !== 'v1' && protocol !== 'v2')
    throw new BadInputError(`--protocol must be v1 or v2, got '${protocol}'`);
  const durationS = positiveNumber('duration', str('duration'), 10);
  if (durationS > MAX_DURATION_S) throw new BadInputError(`--duration is at most ${MAX_DURATION_S} seconds`);
  const rate = str('rate') === undefined ? null : positiveNumber('rate', str('rate'), 1);
  const maxErrorRate = str('max-error-rate') === undefined ? 0.01 : Number(str('max-error-rate'));
  if (!(maxErrorRate >= 0 && maxErrorRate <= 1))
    throw new BadInputError(
      `--max-error-rate must be a fraction from 0 to 1, got '${str('max-error-rate')}'`,
    );

  return {
    url: parsed.origin,
    model: str('model') ?? null,
    version: str('version') ?? null,
    rowsPerRequest: positiveInt('rows-per-request', str('rows-per-request'), 1),
    connections: positiveInt('connections', str('connections'), 10),
    durationS,
    rate,
    stickyUsers: positiveInt('sticky-users', str('sticky-users'), 0, 0),
    protocol,
    input: str('input') ?? null,
    seed: positiveInt('seed', str('seed'), 42, 0),
    timeoutS: positiveNumber('timeout', str('timeout'), 10),
    json: str('json') ?? null,
    quiet: values.quiet === true,
    maxErrorRate,
  };
}

/** True for 127.0.0.0/8, ::1 and localhost: the addresses the suite is allowed to load. */
export function isLoopback(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The inference path for a model (and version) in the chosen protocol (docs/api.md). */
export function inferPath(protocol: Protocol, model: string, version: string | null): string {
  const m = encodeURIComponent(model);
  const v = version === null ? '' : `/versions/${encodeURIComponent(version)}`;
  return protocol === 'v2' ? `/v2/models/${m}${v}/infer` : `/v1/models/${m}${v}:predict`;
}
