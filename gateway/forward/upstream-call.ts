// One logical upstream call with the gateway's resilience rules (gateway/README.md, Request path):
// pick a worker by policy among usable holders of the version, send, and on a connection failure,
// timeout, 502 or 503 retry once on another worker if the retry budget allows. Failures feed
// passive outlier ejection (a refused connection ejects at once: the process is gone); a call that
// never reached the worker (its queue was full, the client went away) is not the worker's fault.
// Callbacks, not promises: this runs for every prediction. Errors name no worker address; the
// `log` hook gets the detail.
import type { OutgoingHttpHeaders } from 'node:http';
import {
  type GroveError,
  RetryLaterError,
  TimeoutError,
  UpstreamError,
} from '../../shared/errors/grove-error.js';
import type { UpstreamResponse } from '../../shared/http/response-parser.js';
import { traceIdOf } from '../../shared/tracing/tracing.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { Policy, Rng } from '../policies/policy.js';
import { ControlError, controlRequest } from '../upstream/control-client.js';
import { Failure, type PoolCall } from '../upstream/data-pool.js';
import type { RetryBudget } from '../upstream/retry-budget.js';
import type { UpstreamWorker } from '../upstream/upstream-worker.js';
import type { WorkerSet } from '../upstream/worker-set.js';

export interface UpstreamAnswer {
  worker: UpstreamWorker;
  status: number;
  /** [name, value...], lower-case names, as the worker sent them. */
  headers: string[];
  body: Buffer;
}

export interface CallTarget {
  model: string | null;
  version: string | null;
}

export interface CallSpec {
  target: CallTarget;
  method: string;
  /** Worker path with query. */
  path: string;
  /** Request header fields [name, value...] (lower-case; no host, content-length or hop-by-hop). */
  headers: string[];
  body: Buffer | null;
  /** Client requests this call carries (a merged call carries several): the retry budget's unit. */
  weight: number;
  /** When true the call is no longer worth sending (its clients were answered): a queued copy is dropped. */
  abandoned: (() => boolean) | null;
}

export type CallDone = (err: GroveError | null, answer: UpstreamAnswer | null) => void;

/** What the log hook hears about a failed attempt (the detail clients are not told). */
export interface UpstreamFailure {
  worker: string;
  kind: string;
  detail: string;
  /** The trace the failed call belongs to (its traceparent's), for the log line. */
  traceId?: string | undefined;
}

/** A header's value in flat [name, value...] fields. */
function fieldOf(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

const KIND_NAMES: Record<Failure, string> = {
  [Failure.Refused]: 'refused',
  [Failure.Unreachable]: 'unreachable',
  [Failure.Lost]: 'lost',
  [Failure.Timeout]: 'timeout',
  [Failure.Protocol]: 'protocol',
  [Failure.Overloaded]: 'overloaded',
  [Failure.Closed]: 'closed',
};

function controlFailure(code: string): Failure {
  if (code === 'ECONNREFUSED') return Failure.Refused;
  if (code === 'TIMEOUT') return Failure.Timeout;
  if (code === 'EHOSTUNREACH' || code === 'ENOTFOUND' || code === 'ETIMEDOUT') return Failure.Unreachable;
  if (code === 'TOO_LARGE' || code.startsWith('HPE_')) return Failure.Protocol;
  return Failure.Lost;
}

/** The client-facing error for a call that failed with `kind` (no worker address in it). */
function errorFor(kind: Failure): GroveError {
  switch (kind) {
    case Failure.Timeout:
      return new TimeoutError('the worker did not answer in time');
    case Failure.Lost:
      return new UpstreamError("the worker's connection closed before it answered");
    case Failure.Protocol:
      return new UpstreamError('the worker sent a malformed answer');
    case Failure.Overloaded:
      return new RetryLaterError(
        'every worker that can serve this request is at capacity',
        'GROVE_ERR_OVERLOADED',
      );
    default:
      return new RetryLaterError('no worker could serve the request');
  }
}

class LogicalCall {
  lines: string | null = null;
  /** A budgeted retry is in flight (ended in finish). */
  retryBudgeted = false;
  constructor(
    readonly spec: CallSpec,
    readonly done: CallDone,
  ) {}
  /** The header lines after `host:`, built once for both attempts. */
  headerLines(): string {
    if (this.lines !== null) return this.lines;
    const h = this.spec.headers;
    let s = '';
    for (let i = 0; i < h.length; i += 2) s += `${h[i]}: ${h[i + 1]}\r\n`;
    const n = this.spec.body === null ? 0 : this.spec.body.length;
    if (n > 0 || this.spec.method === 'POST' || this.spec.method === 'PUT') s += `content-length: ${n}\r\n`;
    return (this.lines = s + '\r\n');
  }
}

class Attempt implements PoolCall {
  readonly head: string;
  readonly body: Buffer | null;
  sentAt = 0;
  resent = false;
  readonly t0 = performance.now();
  constructor(
    readonly caller: UpstreamCaller,
    readonly call: LogicalCall,
    readonly w: UpstreamWorker,
    readonly second: boolean,
  ) {
    const s = call.spec;
    this.body = s.body;
    this.head = `${s.method} ${s.path} HTTP/1.1\r\nhost: ${w.host}:${w.port}\r\n${call.headerLines()}`;
  }
  abandoned(): boolean {
    const a = this.call.spec.abandoned;
    return a !== null && a() === true;
  }
  answered(r: UpstreamResponse): void {
    this.caller.onAnswer(this, r.status, r.headers, r.body);
  }
  failed(kind: Failure, detail: string): void {
    this.caller.onFailure(this, kind, detail);
  }
}

export class UpstreamCaller {
  /** Hears every failed attempt, with the worker's address (for logs). */
  log: ((f: UpstreamFailure) => void) | null = null;

  constructor(
    private readonly workers: WorkerSet,
    private readonly policy: Policy,
    private readonly rng: Rng,
    private readonly budget: RetryBudget,
    private readonly metrics: GatewayMetrics,
  ) {}

  call(spec: CallSpec, done: CallDone): void {
    // The budget is a share of client requests in flight; a coalesced call carries `weight` of them.
    this.budget.active += spec.weight;
    const w = this.pick(spec.target, undefined);
    const c = new LogicalCall(spec, done);
    if (w === undefined) {
      this.finish(c, this.unavailable(spec.target), null);
      return;
    }
    this.send(new Attempt(this, c, w, false));
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

  unavailable(target: CallTarget): RetryLaterError {
    const what =
      target.model === null
        ? 'the request'
        : target.version === null
          ? `model '${target.model}'`
          : `model '${target.model}' version ${target.version}`;
    return new RetryLaterError(`no healthy worker can serve ${what}`);
  }

  private send(a: Attempt): void {
    const w = a.w;
    // Policies compare calls in flight (p2c multiplies them by a per-call latency); rows are shown
    // in /admin/workers.
    w.outstanding++;
    w.outstandingRows += a.call.spec.weight;
    w.requests++;
    w.callStarted(a.t0);
    const s = a.call.spec;
    if (w.usesData(s.method, s.path, s.body === null ? 0 : s.body.length)) {
      w.data.send(a);
      return;
    }
    if (s.method === 'GET' && s.body === null) {
      w.meta.send(a);
      return;
    }
    const headers: OutgoingHttpHeaders = {};
    for (let i = 0; i < s.headers.length; i += 2) {
      const k = s.headers[i]!;
      const prev = headers[k];
      headers[k] = prev === undefined ? s.headers[i + 1]! : `${prev}, ${s.headers[i + 1]}`;
    }
    if (s.body !== null) headers['content-length'] = String(s.body.length);
    controlRequest(w.agent, w.host, w.port, {
      method: s.method,
      path: s.path,
      headers,
      body: s.body,
      timeoutMs: w.data.opts.timeoutMs,
    }).then(
      (r) => {
        const flat: string[] = [];
        for (let i = 0; i < r.rawHeaders.length; i += 2)
          flat.push(r.rawHeaders[i]!.toLowerCase(), r.rawHeaders[i + 1]!);
        this.onAnswer(a, r.status, flat, r.body);
      },
      (err: unknown) => {
        const code = err instanceof ControlError ? err.code : 'ECONNRESET';
        this.onFailure(a, controlFailure(code), (err as Error).message);
      },
    );
  }

  private ended(a: Attempt, sent: boolean): void {
    const w = a.w;
    w.outstanding--;
    w.outstandingRows -= a.call.spec.weight;
    if (sent) w.callEnded(a.t0, performance.now() - a.t0);
    else w.callEnded(a.t0, -1);
  }

  onAnswer(a: Attempt, status: number, headers: string[], body: Buffer): void {
    this.ended(a, true);
    const w = a.w;
    const answer: UpstreamAnswer = { worker: w, status, headers, body };
    if (status === 502 || status === 503) {
      this.fail(w, false);
      this.retryOr(a, true, null, answer);
      return;
    }
    if (status >= 500) this.fail(w, false);
    else w.outlier.success();
    this.finish(a.call, null, answer);
  }

  onFailure(a: Attempt, kind: Failure, detail: string): void {
    const sent = kind !== Failure.Overloaded && kind !== Failure.Closed;
    this.ended(a, sent);
    if (a.abandoned()) {
      this.finish(a.call, errorFor(kind), null);
      return;
    }
    this.log?.({
      worker: a.w.url,
      kind: KIND_NAMES[kind],
      detail,
      traceId: traceIdOf(fieldOf(a.call.spec.headers, 'traceparent')),
    });
    if (sent) this.fail(a.w, kind === Failure.Refused);
    // A call that got no HTTP answer at all (refused, reset, never sent) leaves nothing queued
    // there, so retrying it elsewhere cannot pile load onto a struggling worker; it is not
    // budgeted, so a killed worker costs no failed requests however many calls it held. Retries
    // after a timeout or a malformed answer, which can amplify an overload, take the Envoy-style
    // budget.
    this.retryOr(a, kind === Failure.Timeout || kind === Failure.Protocol, errorFor(kind), null);
  }

  private retryOr(
    a: Attempt,
    budgeted: boolean,
    err: GroveError | null,
    answer: UpstreamAnswer | null,
  ): void {
    const c = a.call;
    if (a.second) {
      this.finish(c, err, answer);
      return;
    }
    const next = this.pick(c.spec.target, a.w);
    if (next === undefined || (budgeted && !this.budget.tryRetry())) {
      if (next !== undefined) this.metrics.retryBudgetExhausted.inc();
      this.finish(c, err, answer);
      return;
    }
    c.retryBudgeted = budgeted;
    this.metrics.retries.inc({ model: c.spec.target.model ?? '', version: c.spec.target.version ?? '' });
    this.send(new Attempt(this, c, next, true));
  }

  private finish(c: LogicalCall, err: GroveError | null, answer: UpstreamAnswer | null): void {
    if (c.retryBudgeted) this.budget.endRetry();
    this.budget.active -= c.spec.weight;
    c.done(err, answer);
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
