// The gateway's prediction path, for any caller (the HTTP fronts today; it takes a Reply and a
// header reader, so a gRPC front can use it as it is). A request is admitted (admission.ts), a
// version chosen (version-choice.ts), and then, in the common case, its bytes go to a worker as
// they are: no JSON parse, no re-encoding, the worker's answer passed back with the gateway's
// headers. Only when requests already wait for the same model version (or a shadow copy is wanted)
// is a plain body parsed and coalesced with others (coalescer.ts). Every request ends in `finish`
// once: metrics, admission slot, deadline timer and the `onForward` hook.
import type { IncomingHttpHeaders } from 'node:http';
import {
  type GroveError,
  GroveError as GroveErrorClass,
  toGroveError,
} from '../../shared/errors/grove-error.js';
import { type Reply, replyError } from '../../shared/http/reply.js';
import type { Span } from '../../shared/tracing/tracing.js';
import { type Admission, deadlineOf } from '../admission/admission.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { Rng } from '../policies/policy.js';
import type { HeaderReader, VersionChooser } from '../routing/version-choice.js';
import type { SplitRegistry } from '../split/split-registry.js';
import type { UpstreamWorker } from '../upstream/upstream-worker.js';
import type { WorkerSet } from '../upstream/worker-set.js';
import { ClientCall } from './client-call.js';
import type { Coalescer, Gate, Item } from './coalescer.js';
import { answerHeaders, servedVersion, upstreamHeaders } from './forward-headers.js';
import type { ForwardTracer } from './forward-trace.js';
import { KIND_PREDICT, parseInferRows, parsePredictRows, type RowsPart } from './predict-codec.js';
import { ShadowPair } from './shadow.js';
import type { CallTarget, UpstreamAnswer, UpstreamCaller } from './upstream-call.js';

export interface PredictRequest {
  verb: 'infer' | 'predict';
  model: string;
  /** The version in the URL, if any. */
  version: string | undefined;
  /** '' or '?...' */
  query: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The client's address (admission share, X-Forwarded-For). */
  peer: string;
  secure: boolean;
  /** Rows, when the front knows them without parsing (gRPC): a span attribute. */
  rows?: number;
  /** Came over gRPC (span attributes). */
  grpc?: boolean;
}

/** What the onForward hook hears when a request ends (cheap: no hook, no cost). */
export interface ForwardEvent {
  requestId: string;
  model: string;
  version: string;
  status: number;
  /** performance.now() at arrival and at the answer. */
  start: number;
  end: number;
  worker: string | null;
  /** The answer was cut from a merged call. */
  coalesced: boolean;
}

export interface ForwarderOptions {
  maxCoalesceRows: number;
  /** Spans for every request (tracing on), or absent: no cost. */
  tracer?: ForwardTracer | null;
  onForward?: (e: ForwardEvent) => void;
}

/** Bodies larger than this are never parsed for coalescing. */
const MAX_COALESCE_BODY = 64 * 1024;

export function headerReader(h: IncomingHttpHeaders): HeaderReader {
  return (name) => {
    const v = h[name];
    return Array.isArray(v) ? v[0] : v;
  };
}

/** A body the coalescer may read: JSON (or no type), not binary tensors, no query options. */
function plainJson(req: PredictRequest): boolean {
  if (req.query !== '' || req.body.length === 0 || req.body.length >= MAX_COALESCE_BODY) return false;
  if (req.headers['inference-header-content-length'] !== undefined) return false;
  const ct = req.headers['content-type'];
  if (ct === undefined) return true;
  const semi = ct.indexOf(';');
  return (semi < 0 ? ct : ct.slice(0, semi)).trim().toLowerCase() === 'application/json';
}

function onDeadline(f: Forwarder, call: ClientCall): void {
  call.deadlineTimer = null;
  f.fail(
    call,
    new GroveErrorClass(
      'the request passed its x-grove-deadline-ms before it was served',
      'GROVE_ERR_DEADLINE',
    ),
  );
}

export class Forwarder {
  constructor(
    private readonly workers: WorkerSet,
    private readonly splits: SplitRegistry,
    readonly versions: VersionChooser,
    private readonly caller: UpstreamCaller,
    private readonly coalescer: Coalescer,
    private readonly admission: Admission,
    private readonly metrics: GatewayMetrics,
    private readonly rng: Rng,
    private readonly opts: ForwarderOptions,
  ) {}

  /**
   * For non-HTTP callers: the version and worker a request would go to now (the policy's pick
   * among usable holders), or the error a client would get.
   */
  route(
    model: string,
    version: string | undefined,
    stickyKey: string | undefined,
  ): { version: string; worker: UpstreamWorker } | GroveError {
    const split = this.splits.get(model);
    const v = this.versions.choose(model, version, (name) =>
      name === split?.sticky ? stickyKey : undefined,
    );
    if (typeof v !== 'string') return v;
    const w = this.caller.pick({ model, version: v }, undefined);
    return w === undefined ? this.caller.unavailable({ model, version: v }) : { version: v, worker: w };
  }

  /**
   * Admits a client request: a ClientCall, or null when refused (already answered: overload,
   * a bad deadline). The caller must end it with respond, fail or finish. A `stream` (a batch) has
   * no deadline, and a refusal closes its connection (its body is not read).
   */
  open(
    reply: Reply,
    requestId: string,
    peer: string,
    headers: IncomingHttpHeaders,
    stream = false,
  ): ClientCall | null {
    const deadline = stream ? 0 : deadlineOf(headers['x-grove-deadline-ms']);
    if (typeof deadline !== 'number') {
      replyError(reply, deadline, requestId);
      return null;
    }
    const refused = this.admission.admit(peer);
    if (refused !== null) {
      this.metrics.shed.inc({
        reason: refused.code === 'GROVE_ERR_OVER_SHARE' ? 'over_share' : 'overloaded',
      });
      replyError(reply, refused, requestId, stream ? ['connection', 'close'] : undefined);
      return null;
    }
    const call = new ClientCall(reply, requestId, peer);
    call.admitted = true;
    if (deadline > 0) call.deadlineTimer = setTimeout(onDeadline, deadline, this, call);
    return call;
  }

  predict(req: PredictRequest, call: ClientCall): void {
    call.model = req.model;
    const tr = this.opts.tracer ?? null;
    const read = headerReader(req.headers);
    let t0 = 0;
    if (tr !== null) {
      tr.receive(call, read, req.model, req.verb, req.rows, req.grpc === true);
      t0 = performance.now();
    }
    const v = this.versions.choose(req.model, req.version, read);
    if (tr !== null) tr.chose(call, t0, typeof v === 'string' ? v : null);
    if (typeof v !== 'string') {
      this.fail(call, v);
      return;
    }
    call.version = v;
    const g = this.coalescer.gate(req.model, v);
    const shadow = req.version === undefined ? this.splits.get(req.model)?.config.shadow : undefined;
    if ((shadow !== undefined || this.coalescer.contended(g)) && plainJson(req)) {
      const text = req.body.toString('utf8');
      const part =
        req.verb === 'predict'
          ? parsePredictRows(text, this.opts.maxCoalesceRows)
          : parseInferRows(text, this.opts.maxCoalesceRows);
      if (part !== null) {
        this.coalesce(req, call, g, part, shadow);
        return;
      }
    }
    this.passThrough(req, call, g);
  }

  private upstreamPath(verb: string, model: string, version: string, query: string): string {
    const m = encodeURIComponent(model);
    return verb === 'infer'
      ? `/v2/models/${m}/versions/${version}/infer${query}`
      : `/v1/models/${m}/versions/${version}:${verb}${query}`;
  }

  private passThrough(req: PredictRequest, call: ClientCall, g: Gate): void {
    this.coalescer.started(g);
    let headers = upstreamHeaders(req.headers, call.requestId, req.peer, req.secure);
    let span: Span | null = null;
    const tr = this.opts.tracer ?? null;
    if (tr !== null && call.trace !== null) {
      const f = tr.forward([call], req.model, call.version, req.rows, headers);
      headers = f.headers;
      span = f.span;
    }
    this.caller.call(
      {
        target: { model: req.model, version: call.version },
        method: 'POST',
        path: this.upstreamPath(req.verb, req.model, call.version, req.query),
        headers,
        body: req.body,
        weight: 1,
        abandoned: () => call.finished,
      },
      (err, a) => {
        if (span !== null) tr!.forwarded(span, a === null ? 0 : a.status, err === null ? null : err.message);
        this.coalescer.ended(g);
        if (err !== null) this.fail(call, err);
        else this.respond(call, a!, a!.body, true, false);
      },
    );
  }

  private coalesce(
    req: PredictRequest,
    call: ClientCall,
    g: Gate,
    part: RowsPart,
    shadow: { version: string; fraction: number } | undefined,
  ): void {
    if (call.trace !== null) call.trace.span.setAttribute('grove.rows', part.rows);
    const path = this.upstreamPath(req.verb, req.model, call.version, '');
    const item: Item = { call, part, path, body: req.body, shadow: null };
    if (
      shadow &&
      shadow.version !== call.version &&
      this.rng() < shadow.fraction &&
      this.workers.hasUsable(req.model, shadow.version)
    ) {
      item.shadow = new ShadowPair(req.model, call.version, shadow.version, call.requestId, this.metrics);
      const spath = this.upstreamPath(
        part.kind === KIND_PREDICT ? 'predict' : 'infer',
        req.model,
        shadow.version,
        '',
      );
      const sg = this.coalescer.gate(req.model, shadow.version);
      this.coalescer.enqueue(sg, { call: null, part, path: spath, body: req.body, shadow: item.shadow });
    }
    this.coalescer.enqueue(g, item);
  }

  /** Writes a worker's answer (whole, or one client's slice of a merged one). */
  /**
   * A bodiless GET for one worker (metadata, readiness, status): written on the worker's pooled
   * connections and retried elsewhere as any call; the answer passes back as it is.
   */
  fetch(call: ClientCall, target: CallTarget, path: string, headers: string[]): void {
    this.caller.call(
      { target, method: 'GET', path, headers, body: null, weight: 1, abandoned: () => call.finished },
      (err, a) => {
        if (err !== null) this.fail(call, err);
        else this.respond(call, a!, a!.body, true, false);
      },
    );
  }

  respond(
    call: ClientCall,
    a: UpstreamAnswer,
    body: string | Buffer,
    passHeaders: boolean,
    coalesced: boolean,
  ): void {
    if (call.finished) return;
    call.reply.send(a.status, answerHeaders(a, call.requestId, call.version || null, passHeaders), body);
    this.finish(call, a.status, servedVersion(a) ?? call.version, a.worker.url, coalesced);
  }

  fail(call: ClientCall, err: unknown, extra?: readonly string[]): void {
    if (call.finished) return;
    const g = toGroveError(err);
    replyError(call.reply, g, call.requestId, extra);
    this.finish(call, g.statusCode, call.version, null, false);
  }

  /** Ends a client request once: metrics, admission slot, deadline timer, hook. */
  finish(call: ClientCall, status: number, version: string, worker: string | null, coalesced: boolean): void {
    if (call.finished) return;
    call.finished = true;
    if (call.deadlineTimer !== null) clearTimeout(call.deadlineTimer);
    if (call.admitted) this.admission.release(call.clientKey);
    this.opts.tracer?.finish(call, status, version, coalesced);
    const end = performance.now();
    // Only once a version was chosen: model names that no worker has must not become label values.
    if (call.version !== '') this.metrics.observe(call.model, version, status, (end - call.start) / 1000);
    const hook = this.opts.onForward;
    if (hook !== undefined)
      hook({
        requestId: call.requestId,
        model: call.model,
        version,
        status,
        start: call.start,
        end,
        worker,
        coalesced,
      });
  }

  /** For the coalescer: one client's answer. */
  readonly respondItem = (it: Item, a: UpstreamAnswer, body: string | Buffer, passHeaders: boolean): void => {
    this.respond(it.call!, a, body, passHeaders, !passHeaders);
  };

  readonly failItem = (it: Item, err: GroveError): void => {
    if (it.call === null) {
      it.shadow?.set('shadow', null);
      return;
    }
    this.fail(it.call, err);
  };
}
