// Runs a parsed request against a version: inline on the event loop for small requests (a thread
// hop costs tens of microseconds, far more than a few rows of trees), on the pool above
// `inlineRowThreshold` rows (shared-memory input and output, nothing copied). Then it counts the
// rows and tells the observers (synchronously; a throwing observer never fails the request).
import type { Logger } from 'pino';
import { BadInputError } from '../../shared/errors/grove-error.js';
import type { CounterSeries } from '../../shared/metrics/fast-series.js';
import { assertExplainable, explainerFor, explainSize } from '../../shared/runtime/explain/index.js';
import { epochNow, type RequestTrace } from '../../shared/tracing/tracing.js';
import type { WorkerMetrics } from '../metrics/worker-metrics.js';
import { type PredictionEvent, type PredictionObserver, parseRequestRows } from '../observer.js';
import type { PredictPool } from '../pool/predict-pool.js';
import { type ParsedRows, Scratch } from '../protocol/parsed-rows.js';
import type { LoadedVersion } from '../repository/loaded-version.js';

/** Explainers up to this many tree nodes are built on the event loop (about 1 us per node). */
export const INLINE_EXPLAINER_NODES = 50_000;
/** Contributions computed inline cost at most this many explainer units (about 1-2 ms here). */
export const INLINE_CONTRIBUTION_COST = 200_000;

/** Values per row of the contributions output: K margin columns of F features and a bias. */
export function contributionWidth(v: LoadedVersion): number {
  return v.numRawOutputs * (v.numFeatures + 1);
}

export class Predictor {
  readonly observers: PredictionObserver[] = [];
  private readonly complained = new Set<PredictionObserver>();
  private readonly outScratch = new Scratch();
  private readonly contribScratch = new Scratch();

  constructor(
    private readonly pool: PredictPool,
    private readonly metrics: WorkerMetrics,
    private readonly logger: Logger,
    readonly inlineRowThreshold: number,
  ) {}

  /**
   * Per-feature contributions of the request's dense rows (K * (F + 1) per row; docs/explanations.md).
   * Refuses unexplainable models before any work. Inline (a scratch view, valid until the next
   * request) when the event loop can afford it: the explainer is small enough to build here
   * (INLINE_EXPLAINER_NODES) and the rows cost at most INLINE_CONTRIBUTION_COST; otherwise a pool
   * thread computes them (each thread builds its own explainer once).
   */
  contributions(v: LoadedVersion, p: ParsedRows): Float64Array | Promise<Float64Array> {
    assertExplainable(v.model);
    if (p.input === null) throw new BadInputError('contributions need dense rows');
    const width = contributionWidth(v);
    if (p.rows === 0) return new Float64Array(0);
    if (explainSize(v.model) <= INLINE_EXPLAINER_NODES) {
      const e = explainerFor(v.model);
      if (p.rows * e.costPerRow <= INLINE_CONTRIBUTION_COST) {
        const out = this.contribScratch.view(p.rows * width);
        e.contributions(p.input, p.rows, out);
        return out;
      }
    }
    return this.contributionsOnPool(v, p.input, p.rows, width);
  }

  private async contributionsOnPool(
    v: LoadedVersion,
    rows: Float64Array,
    n: number,
    width: number,
  ): Promise<Float64Array> {
    let input = rows;
    if (!(input.buffer instanceof SharedArrayBuffer)) {
      input = new Float64Array(new SharedArrayBuffer(n * v.numFeatures * 8));
      input.set(rows.subarray(0, n * v.numFeatures));
    }
    const out = new Float64Array(new SharedArrayBuffer(n * width * 8));
    v.acquire();
    try {
      await this.pool.contributions(v.key, input, n, out);
    } finally {
      v.release();
    }
    return out;
  }

  outputsOf(v: LoadedVersion, raw: boolean): number {
    return raw ? v.numRawOutputs : v.numOutputs;
  }

  /**
   * Inline predictions return the output directly (a scratch view: valid until the next request,
   * so serialise it before any await); pool predictions a promise of a fresh one. With `trace`,
   * the request gets a `predict` span (and, on the pool, a `queue` span for the wait for a thread).
   */
  run(
    v: LoadedVersion,
    p: ParsedRows,
    requestId: string,
    requestIds?: string,
    trace: RequestTrace | null = null,
  ): Float64Array | Promise<Float64Array> {
    const k = p.raw ? v.numRawOutputs : v.numOutputs;
    if (trace !== null) trace.span.setAttribute('grove.rows', p.rows);
    if (p.rows <= this.inlineRowThreshold) {
      const t0 = trace === null ? 0 : epochNow();
      // Reused: the caller serialises the answer before its next await (see protocol/parsed-rows.ts).
      const out = this.outScratch.view(p.rows * k);
      if (p.input !== null) {
        if (p.rows === 1) v.model.predictOne(p.input, out, p.raw);
        else if (p.rows > 0) v.model.predict(p.input, p.rows, out, p.raw);
      } else if (p.rows > 0) {
        v.model.predictNamed(p.named!, out, p.raw);
      }
      if (trace !== null) trace.child('predict', t0, epochNow(), spanAttributes(v, p.rows, 'inline'));
      this.done(v, requestId, p.input, p.named, p.rows, out, k, p.raw, requestIds);
      return out;
    }
    return this.onPool(v, p, k, requestId, requestIds, trace);
  }

  private async onPool(
    v: LoadedVersion,
    p: ParsedRows,
    k: number,
    requestId: string,
    requestIds: string | undefined,
    trace: RequestTrace | null,
  ): Promise<Float64Array> {
    const out = new Float64Array(new SharedArrayBuffer(p.rows * k * 8));
    const queued = trace === null ? 0 : epochNow();
    let started: number;
    v.acquire();
    try {
      if (p.input !== null) {
        let input = p.input;
        if (!(input.buffer instanceof SharedArrayBuffer)) {
          input = new Float64Array(new SharedArrayBuffer(input.byteLength));
          input.set(p.input);
        }
        started = await this.pool.predict(v.key, input, p.rows, out, p.raw);
      } else {
        started = await this.pool.predictNamed(v.key, p.named!, out, p.raw);
      }
    } finally {
      v.release();
    }
    if (trace !== null) {
      // Thread clocks can differ from this one by a fraction of a millisecond: keep spans ordered.
      const end = epochNow();
      const begin = Math.min(Math.max(started, queued), end);
      const attrs = spanAttributes(v, p.rows, 'pool');
      trace.child('queue', queued, begin, attrs);
      trace.child('predict', begin, end, attrs);
    }
    this.done(v, requestId, p.input, p.named, p.rows, out, k, p.raw, requestIds);
    return out;
  }

  /**
   * Counts rows and notifies observers (also used by streamed batches, chunk by chunk).
   * `retainable`: the worker never reuses `input` and `out` (see PredictionEvent).
   */
  done(
    v: LoadedVersion,
    requestId: string,
    input: Float64Array | null,
    named: ReadonlyArray<Readonly<Record<string, unknown>>> | null,
    rows: number,
    out: Float64Array,
    k: number,
    raw: boolean,
    requestIds?: string,
    retainable = false,
  ): void {
    let c = v.metricCache.get('rows') as CounterSeries | undefined;
    if (c === undefined) {
      c = this.metrics.rows.series_({ model: v.name, version: v.version });
      v.metricCache.set('rows', c);
    }
    c.value += rows;
    const obs = this.observers;
    if (obs.length === 0) return;
    const e: PredictionEvent = {
      requestId,
      requestIds: requestIds === undefined ? null : parseRequestRows(requestIds),
      model: v.name,
      version: v.version,
      sha256: v.sha256,
      input: v.sparse ? null : input,
      namedRows: named,
      rows,
      numFeatures: v.numFeatures,
      output: out,
      numOutputs: k,
      raw,
      at: Date.now(),
      retainable,
    };
    for (let i = 0; i < obs.length; i++) {
      try {
        obs[i]!.observe(e);
      } catch (err) {
        if (!this.complained.has(obs[i]!)) {
          this.complained.add(obs[i]!);
          this.logger.error(
            { event: 'observer_failed', err: (err as Error).message },
            'prediction observer threw (logged once)',
          );
        }
      }
    }
  }
}

function spanAttributes(
  v: LoadedVersion,
  rows: number,
  where: 'inline' | 'pool',
): Record<string, string | number> {
  return {
    'grove.model': v.name,
    'grove.model_version': v.version,
    'grove.rows': rows,
    'grove.executor': where,
  };
}
