// One load run, end to end: resolve the model and the rows, pre-build the bodies, drive the
// endpoint (closed loop on autocannon, or open loop at a fixed rate), show a progress line and
// return the report. Used by `grove loadtest` and by the scenario suite.
import { request } from 'undici';
import { BadInputError, GroveError } from '../shared/errors/grove-error.js';
import { type EngineRun, runClosedLoop } from './closed-loop.js';
import { runFixedRate } from './fixed-rate.js';
import { LoadRecorder, type LoadReport } from './load-recorder.js';
import { inferPath, type LoadtestOptions } from './options.js';
import { buildBodyPool, type RowSet, readCsvRows, seededRandom, syntheticRows } from './request-bodies.js';

/** Rows drawn from metadata: enough distinct rows that caches do not flatter the server. */
const SYNTHETIC_ROWS = 256;

async function getJson(url: string, timeoutS: number): Promise<unknown> {
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(url, { headersTimeout: timeoutS * 1000, bodyTimeout: timeoutS * 1000 });
  } catch (err) {
    throw new GroveError(`cannot reach ${url}: ${(err as Error).message}`, 'GROVE_ERR_UNREACHABLE');
  }
  const text = await res.body.text();
  if (res.statusCode !== 200) {
    throw new GroveError(
      `GET ${url} answered ${res.statusCode}: ${text.slice(0, 200)}`,
      'GROVE_ERR_UPSTREAM',
    );
  }
  return JSON.parse(text) as unknown;
}

/** The first model `GET /v2/models` lists. */
export async function firstModel(base: string, timeoutS = 10): Promise<string> {
  const body = (await getJson(`${base}/v2/models`, timeoutS)) as { models?: Array<{ name?: string }> };
  const name = body.models?.[0]?.name;
  if (typeof name !== 'string') throw new BadInputError(`${base}/v2/models lists no model`);
  return name;
}

/**
 * Feature names from model metadata (`GET /v2/models/{m}`): the input's shape [-1, F] and its
 * names wherever the server puts them (input.parameters.feature_names, input.feature_names or a
 * top-level feature_names); f0..fF-1 when it names none.
 */
export function featureNamesFromMetadata(meta: unknown): string[] {
  const m = meta as {
    inputs?: Array<{ shape?: number[]; feature_names?: unknown; parameters?: { feature_names?: unknown } }>;
    feature_names?: unknown;
    parameters?: { feature_names?: unknown };
  };
  const input = m.inputs?.[0];
  const names =
    input?.parameters?.feature_names ??
    input?.feature_names ??
    m.feature_names ??
    m.parameters?.feature_names;
  if (Array.isArray(names) && names.length > 0 && names.every((n) => typeof n === 'string'))
    return names as string[];
  const width = input?.shape?.[1];
  if (typeof width === 'number' && width > 0) return Array.from({ length: width }, (_, i) => `f${i}`);
  throw new BadInputError('the model metadata gives no input width; pass --input rows.csv');
}

export interface RunHooks {
  /** Progress line sink (stderr by default); null = silent. */
  progress?: ((line: string) => void) | null;
  signal?: AbortSignal;
}

export async function runLoadtest(options: LoadtestOptions, hooks: RunHooks = {}): Promise<LoadReport> {
  const model = options.model ?? (await firstModel(options.url, options.timeoutS));
  let rows: RowSet;
  if (options.input) {
    rows = readCsvRows(options.input);
  } else {
    const metaPath =
      options.version === null
        ? `/v2/models/${encodeURIComponent(model)}`
        : `/v2/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(options.version)}`;
    const names = featureNamesFromMetadata(await getJson(options.url + metaPath, options.timeoutS));
    rows = syntheticRows(names, SYNTHETIC_ROWS, options.seed);
  }
  const bodies = buildBodyPool(rows, options.protocol, options.rowsPerRequest);
  const userRandom = seededRandom(options.seed ^ 0x5eed);
  const recorder = new LoadRecorder(Date.now(), options.stickyUsers);
  const run: EngineRun = {
    url: options.url,
    path: inferPath(options.protocol, model, options.version),
    bodies,
    connections: options.connections,
    durationS: options.durationS,
    timeoutS: options.timeoutS,
    nextUser: options.stickyUsers > 0 ? () => Math.floor(userRandom() * options.stickyUsers) : () => -1,
    recorder,
    ...(hooks.signal ? { signal: hooks.signal } : {}),
  };

  const progress =
    hooks.progress === undefined ? (line: string) => process.stderr.write(line) : hooks.progress;
  let ticker: NodeJS.Timeout | undefined;
  if (progress) {
    const started = Date.now();
    let lastCount = 0;
    ticker = setInterval(() => {
      const done = recorder.completed;
      const p99 = recorder.p99Since(lastCount);
      const shares = [...recorder.versionCounts()].map(
        ([v, n]) => `v${v} ${((100 * n) / Math.max(1, done)).toFixed(0)}%`,
      );
      progress(
        `\r[${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s/${options.durationS}s] ` +
          `${(done - lastCount).toLocaleString('en-US').padStart(8)} req/s  p99 ${Number.isNaN(p99) ? '-' : p99.toFixed(2)} ms  ` +
          `errors ${recorder.errors}  non-2xx ${recorder.non2xxCount}  ${shares.join(' ')}   `,
      );
      lastCount = done;
    }, 1000);
    ticker.unref();
  }
  let durationS: number;
  try {
    ({ durationS } =
      options.rate === null ? await runClosedLoop(run) : await runFixedRate({ ...run, rate: options.rate }));
  } finally {
    if (ticker) clearInterval(ticker);
    if (progress) progress('\n');
  }
  return recorder.build(
    {
      url: options.url,
      model,
      version: options.version,
      protocol: options.protocol,
      mode: options.rate === null ? 'closed-loop' : 'fixed-rate',
      connections: options.connections,
      rate_target: options.rate,
      rows_per_request: options.rowsPerRequest,
    },
    durationS,
  );
}
