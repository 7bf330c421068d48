// The model-loading flags: --load-timeout SECONDS and --load-memory MB bound every load (docs/
// formats.md "Untrusted files"; grove worker, serve, predict, convert, bench), --follow-symlinks
// lets a repository follow links out of its root (grove worker, serve). `grove serve` hands them to
// its worker processes through the environment (node:cluster passes the environment, not argv).
import { DEFAULT_LOAD_LIMITS, type LoadLimits } from '../shared/runtime/isolation/model-loader.js';

export const LOAD_CLI_OPTIONS = {
  'load-timeout': { type: 'string' },
  'load-memory': { type: 'string' },
} as const;

export const REPOSITORY_CLI_OPTIONS = {
  ...LOAD_CLI_OPTIONS,
  'follow-symlinks': { type: 'boolean' },
} as const;

export const LOAD_CLI_USAGE = `  --load-timeout S      stop a model load after S seconds (default ${DEFAULT_LOAD_LIMITS.timeoutMs / 1000})
  --load-memory MB      heap limit of a model load (default ${DEFAULT_LOAD_LIMITS.heapMb})
`;

export const REPOSITORY_CLI_USAGE = `${LOAD_CLI_USAGE}  --follow-symlinks     follow symbolic links out of the model repository (default: refuse them)
`;

type Values = Record<string, unknown>;

/** Load limits from parsed flags (absent flags keep the defaults); throws on a bad value. */
export function loadLimitsFromArgs(values: Values): LoadLimits {
  const limits = { ...DEFAULT_LOAD_LIMITS };
  const t = values['load-timeout'];
  if (typeof t === 'string') {
    const s = Number(t);
    if (!(s > 0 && s <= 86_400)) throw new Error('--load-timeout must be a number of seconds above 0');
    limits.timeoutMs = Math.max(1, Math.round(s * 1000));
  }
  const m = values['load-memory'];
  if (typeof m === 'string') {
    const mb = Number(m);
    if (!(Number.isInteger(mb) && mb >= 16 && mb <= 65_536))
      throw new Error('--load-memory must be a whole number of MB from 16 to 65536');
    limits.heapMb = mb;
  }
  return limits;
}

/** Environment for forked workers carrying the flags. */
export function repositoryEnv(limits: LoadLimits, followSymlinks: boolean): Record<string, string> {
  const env: Record<string, string> = {
    GROVE_LOAD_TIMEOUT_MS: String(limits.timeoutMs),
    GROVE_LOAD_MEMORY_MB: String(limits.heapMb),
  };
  if (followSymlinks) env.GROVE_FOLLOW_SYMLINKS = '1';
  return env;
}

/** The flags a forked worker finds in its environment. */
export function repositoryFromEnv(env: NodeJS.ProcessEnv): {
  loadLimits: LoadLimits;
  followSymlinks: boolean;
} {
  const num = (v: string | undefined, d: number) => (v !== undefined && Number(v) > 0 ? Number(v) : d);
  return {
    loadLimits: {
      timeoutMs: num(env.GROVE_LOAD_TIMEOUT_MS, DEFAULT_LOAD_LIMITS.timeoutMs),
      heapMb: num(env.GROVE_LOAD_MEMORY_MB, DEFAULT_LOAD_LIMITS.heapMb),
    },
    followSymlinks: env.GROVE_FOLLOW_SYMLINKS === '1',
  };
}
