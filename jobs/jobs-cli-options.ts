// The jobs flags of `grove serve` and `grove gateway` (docs/jobs.md), parsed in one place.
import { DEFAULT_MAX_JOB_BYTES, type JobsOptions } from './jobs-service.js';

export const JOBS_CLI_OPTIONS = {
  'jobs-db': { type: 'string' },
  'max-job-bytes': { type: 'string' },
  'job-webhook': { type: 'string' },
  'job-notify-private': { type: 'boolean' },
  'job-chunk-rows': { type: 'string' },
  'job-concurrency': { type: 'string' },
  'job-lease': { type: 'string' },
  'job-held-mb': { type: 'string' },
} as const;

export const JOBS_CLI_USAGE = `  --jobs-db URL         keep jobs in PostgreSQL (postgres://...) instead of PGlite in --state-dir
  --max-job-bytes N     largest job upload (bytes, or with KiB/MiB/GiB; default 10GiB)
  --job-webhook URL     POST a notice there when any job ends
  --job-notify-private  let a job's ?notify=URL reach private and loopback addresses
  --job-chunk-rows N    rows per stored and scored chunk (default 10000)
  --job-concurrency N   chunks scored at once by this gateway (default: 2 per worker)
  --job-lease S         seconds before another gateway takes over a dead one's chunk (default 30)
  --job-held-mb N       MiB of uploaded chunks kept in memory, scored without reading them back
                        from the database (default: 1/16 of memory, 64 to 1024; 0: none)
`;

const UNITS: Record<string, number> = { '': 1, KIB: 1024, MIB: 1024 ** 2, GIB: 1024 ** 3 };

function positiveInt(v: unknown, flag: string, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${flag} must be an integer in 1..${max}`);
  return n;
}

function heldMb(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65_536)
    throw new Error('--job-held-mb must be an integer in 0..65536');
  return n * 1024 ** 2;
}

/** The jobs options, or null when neither a state dir nor --jobs-db gives them a place. */
export function jobsFromArgs(
  values: Record<string, string | boolean | undefined>,
  stateDir: string | undefined,
): JobsOptions | null {
  const db = values['jobs-db'] as string | undefined;
  if (db !== undefined && !/^postgres(ql)?:\/\//.test(db))
    throw new Error('--jobs-db must be a postgres:// or postgresql:// URL');
  if (!db && !stateDir) return null;
  let maxJobBytes = DEFAULT_MAX_JOB_BYTES;
  const mb = values['max-job-bytes'] as string | undefined;
  if (mb !== undefined) {
    const m = /^([0-9]{1,15})\s*(KiB|MiB|GiB)?$/i.exec(mb.trim());
    if (!m || Number(m[1]) === 0) throw new Error('--max-job-bytes must be a size such as 500MiB');
    maxJobBytes = Number(m[1]) * UNITS[(m[2] ?? '').toUpperCase()]!;
  }
  const webhook = values['job-webhook'] as string | undefined;
  if (webhook !== undefined && !/^https?:\/\/\S+$/.test(webhook))
    throw new Error('--job-webhook must be an http(s) URL');
  return {
    stateDir,
    databaseUrl: db,
    maxJobBytes,
    webhookUrl: webhook,
    notifyPrivate: values['job-notify-private'] === true,
    chunkRows: positiveInt(values['job-chunk-rows'], 'job-chunk-rows', 1_000_000),
    concurrency: positiveInt(values['job-concurrency'], 'job-concurrency', 1024),
    leaseS: positiveInt(values['job-lease'], 'job-lease', 86_400),
    heldBytes: heldMb(values['job-held-mb']),
  };
}
