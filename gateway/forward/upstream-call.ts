// One logical upstream call with the resilience rules of docs/architecture.md, Routing 3: pick a worker by
// policy among usable holders of the version, send, and on a connection error, timeout, 502 or
// 503 retry once on another worker if the retry budget allows. Failures feed passive outlier
// ejection (a refused connection ejects at once: the process is gone). The body is buffered both
// ways: answers are small, and a buffered answer can still be retried.
import type { IncomingHttpHeaders } from 'node:http';
import { TimeoutError, UnavailableError, UpstreamError } from '../../shared/errors/grove-error.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { Policy, Rng } from '../policies/policy.js';
import type { RetryBudget } from '../upstream/retry-budget.js';
import type { UpstreamWorker } from '../upstream/upstream-worker.js';
import type { WorkerSet } from '../upstream/worker-set.js';

export interface UpstreamAnswer {
  worker: UpstreamWorker;
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface CallTarget {
  model: string | null;
  version: string | null;
}

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_DESTROYED',
  'UND_ERR_CLOSED',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

export class UpstreamCaller {
  constructor(
    private readonly workers: WorkerSet,
    private readonly policy: Policy,
    private readonly rng: Rng,
    private readonly budget: RetryBudget,
    private readonly metrics: GatewayMetrics,
  ) {}

  async call(
    target: CallTarget,
    method: string,
    path: string,
    headers: Record<string, string | string[]>,
    body: string | Buffer | null,
    weight: number,
  ): Promise<UpstreamAnswer> {
    // The budget is a share of client requests in flight; a coalesced call carries `weight` of them.
    this.budget.active += weight;
    try {
      const first = this.pick(target, undefined);
      if (!first) throw this.unavailable(target);
      const r1 = await this.attempt(first, method, path, headers, body, weight);
      if (!r1.retryable) return r1.answer!;
      const second = this.pick(target, first);
      // A call that got no HTTP answer at all (refused, reset: the worker died or left) leaves
      // nothing queued there, so retrying it elsewhere cannot pile load onto a struggling worker; it is not
      // budgeted, so a killed worker costs no failed requests however many calls it held. Retries
      // after a 502/503 answer or a timeout, which can amplify an overload, take the Envoy-style
      // budget.
      const budgeted = r1.answer !== undefined || r1.error instanceof TimeoutError;
      if (!second || (budgeted && !this.budget.tryRetry())) {
        if (second) this.metrics.retryBudgetExhausted.inc();
        if (r1.answer) return r1.answer;
        throw r1.error!;
      }
      this.metrics.retries.inc({ model: target.model ?? '', version: target.version ?? '' });
      try {
        const r2 = await this.attempt(second, method, path, headers, body, weight);
        if (r2.answer) return r2.answer;
        throw r2.error!;
      } finally {
        if (budgeted) this.budget.endRetry();
      }
    } finally {
      this.budget.active -= weight;
    }
  }

  pick(target: CallTarget, exclude: UpstreamWorker | undefined): UpstreamWorker | undefined {
    const c =
      target.model !== null && target.version !== null
        ? this.workers.candidates(target.model, target.version, exclude)
        : target.model !== null
          ? this.workers.anyUsable(exclude).filter((w) => w.versions.has(target.model!))
          : this.workers.anyUsable(exclude);
    return this.policy.pick(c, this.rng);
  }

  unavailable(target: CallTarget): UnavailableError {
    const what =
      target.model === null
        ? 'the request'
        : target.version === null
          ? `model '${target.model}'`
          : `model '${target.model}' version ${target.version}`;
    return new UnavailableError(`no healthy worker can serve ${what}`);
  }

  private async attempt(
    w: UpstreamWorker,
    method: string,
    path: string,
    headers: Record<string, string | string[]>,
    body: string | Buffer | null,
    weight: number,
  ): Promise<{ retryable: boolean; answer?: UpstreamAnswer; error?: Error }> {
    // Policies compare calls in flight (p2c multiplies them by a per-call latency); rows are shown
    // in /admin/workers.
    w.outstanding++;
    w.outstandingRows += weight;
    w.requests++;
    const t0 = performance.now();
    w.callStarted(t0);
    try {
      const res = await w
        .poolFor(method, path, body === null ? 0 : body.length)
        .request({ method: method as 'POST', path, headers, body });
      const buf = Buffer.from(await res.body.arrayBuffer());
      w.callEnded(t0, performance.now() - t0);
      const answer: UpstreamAnswer = { worker: w, status: res.statusCode, headers: res.headers, body: buf };
      if (res.statusCode === 502 || res.statusCode === 503) {
        this.fail(w, false);
        return { retryable: true, answer };
      }
      if (res.statusCode >= 500) this.fail(w, false);
      else w.outlier.success();
      return { retryable: false, answer };
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      w.callEnded(t0, performance.now() - t0);
      this.fail(w, code === 'ECONNREFUSED' || code === 'UND_ERR_DESTROYED');
      // Never connected (or the worker left routing): the cluster cannot serve, 503 UNAVAILABLE;
      // a connection lost mid-answer is a bad gateway, 502; no answer in time, 504.
      const error =
        TIMEOUT_CODES.has(code) && code !== 'UND_ERR_CONNECT_TIMEOUT'
          ? new TimeoutError(`worker ${w.url} timed out`)
          : CONNECT_CODES.has(code)
            ? new UnavailableError(`no worker could serve the request (${w.url}: ${code})`)
            : new UpstreamError(`worker ${w.url} failed: ${code || (err as Error).message}`);
      return { retryable: true, error };
    } finally {
      w.outstanding--;
      w.outstandingRows -= weight;
    }
  }

  /** A failed call on `w`: counts it and feeds passive outlier ejection (also for streamed batches). */
  fail(w: UpstreamWorker, immediate: boolean): void {
    w.failures++;
    if (w.outlier.failure(this.workers.now(), immediate)) {
      this.metrics.ejections.inc({ worker: w.url });
      this.workers.changed();
    }
  }
}
