// The gateway's public API: the same routes as a worker (DESIGN.md HTTP API). Predictions choose a
// version (URL, else split weights / sticky key, else the latest live version), then go through
// the coalescer (one-row requests merged per version) or are forwarded as they are. Cluster views
// (GET /v2/models, health, /metrics) are answered by the gateway; per-version fan-out routes
// (monitor) ask every worker holding the version and merge. Everything else goes to one worker.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import {
  type GroveError,
  ModelNotFoundError,
  RequestTimeoutError,
  toGroveError,
  UnavailableError,
  VersionNotFoundError,
} from '../../shared/errors/grove-error.js';
import { NodeReply, type Reply, replyError, replyJson } from '../../shared/http/reply.js';
import { streamBatch } from '../forward/batch-stream.js';
import type { Coalescer, Item } from '../forward/coalescer.js';
import { ShadowPair } from '../forward/coalescer.js';
import { KIND_PREDICT, parseInferRows, parsePredictRows } from '../forward/predict-codec.js';
import type { UpstreamAnswer, UpstreamCaller } from '../forward/upstream-call.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { Rng } from '../policies/policy.js';
import type { SplitRegistry } from '../split/split-registry.js';
import type { WorkerSet } from '../upstream/worker-set.js';
import { FAN_OUT_ROUTES, fanOut } from './fan-out.js';
import { readBody } from './read-body.js';

const INFER_RE = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?\/infer$/;
const V1_RE = /^\/v1\/models\/([^/:]+)(?:\/versions\/([^/:]+))?:(predict|batch)$/;
const MODEL_RE = /^\/v[12]\/models\/([^/:]+)(?:\/versions\/([^/:]+))?(?:[/:].*)?$/;
const REQUEST_ID_RE = /^[\x21-\x7e]{1,128}$/;
// Hop-by-hop headers (RFC 9110 7.6.1) and ones the gateway sets itself.
const DROP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
  'content-length',
  'x-request-id',
  'x-grove-worker',
]);

export interface PublicOptions {
  bodyLimit: number;
  maxCoalesceRows: number;
}

export class PublicHandler {
  constructor(
    private readonly workers: WorkerSet,
    private readonly splits: SplitRegistry,
    private readonly caller: UpstreamCaller,
    private readonly coalescer: Coalescer,
    private readonly metrics: GatewayMetrics,
    private readonly rng: Rng,
    private readonly opts: PublicOptions,
  ) {}

  handle = (req: IncomingMessage, res: ServerResponse): void => {
    const reply = new NodeReply(res);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q);
    const cid = req.headers['x-request-id'];
    const requestId = typeof cid === 'string' && REQUEST_ID_RE.test(cid) ? cid : randomUUID();
    if (req.method === 'POST') {
      let m = INFER_RE.exec(path);
      let verb = 'infer';
      if (!m) {
        m = V1_RE.exec(path);
        if (m) verb = m[3]!;
      }
      if (m) {
        const model = decode(m[1]!);
        const version = m[2] === undefined ? undefined : decode(m[2]);
        if (verb === 'batch') {
          this.batch(req, res, requestId, model, version, query);
          return;
        }
        readBody(req, this.opts.bodyLimit).then(
          (body) => this.predict(req.headers, reply, requestId, verb, model, version, body, query),
          (err) => replyError(reply, err, requestId),
        );
        return;
      }
    } else if (req.method === 'GET' || req.method === 'HEAD') {
      if (this.local(path, reply, requestId)) return;
    }
    readBody(req, this.opts.bodyLimit).then(
      (body) => this.forward(req, reply, requestId, path, url, body),
      (err) => replyError(reply, err, requestId),
    );
  };

  /** The fast front's entry for POST predict/infer (body already read); false if not such a route. */
  handleFast(path: string, query: string, headers: IncomingHttpHeaders, body: Buffer, reply: Reply): boolean {
    let m = INFER_RE.exec(path);
    let verb = 'infer';
    if (!m) {
      m = V1_RE.exec(path);
      if (m?.[3] !== 'predict') return false;
      verb = 'predict';
    }
    const cid = headers['x-request-id'];
    const requestId = typeof cid === 'string' && REQUEST_ID_RE.test(cid) ? cid : randomUUID();
    this.predict(
      headers,
      reply,
      requestId,
      verb,
      decode(m[1]!),
      m[2] === undefined ? undefined : decode(m[2]),
      body,
      query,
    );
    return true;
  }

  /** The fast front's slow-client answer: a request still arriving after the read timeout. */
  stalled(reply: Reply): void {
    replyError(reply, new RequestTimeoutError('request not received within the read timeout'), randomUUID());
  }

  /** `:batch`: streamed to one worker as it arrives (batch-stream.ts); no body limit, no retry. */
  private batch(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    model: string,
    explicit: string | undefined,
    query: string,
  ): void {
    const v = this.chooseVersion(req.headers, model, explicit);
    const w = typeof v === 'string' ? this.caller.pick({ model, version: v }, undefined) : undefined;
    if (typeof v !== 'string' || w === undefined) {
      const g = typeof v !== 'string' ? v : this.caller.unavailable({ model, version: v });
      // The body is not read: close rather than drain a large upload.
      replyJson(new NodeReply(res), g.statusCode, g.toJSON(), requestId, ['connection', 'close']);
      return;
    }
    const path = `/v1/models/${encodeURIComponent(model)}/versions/${v}:batch${query}`;
    const headers = this.upstreamHeaders(req.headers, requestId);
    void streamBatch(
      req,
      res,
      { worker: w, path, headers, model, version: v, requestId },
      this.caller,
      this.metrics,
    );
  }

  /** Routes the gateway answers itself. */
  private local(path: string, res: Reply, requestId: string): boolean {
    switch (path) {
      case '/v2/health/live':
        replyJson(res, 200, { live: true }, requestId);
        return true;
      case '/v2/health/ready': {
        const ready = this.workers.anyUsable().length > 0;
        replyJson(
          res,
          ready ? 200 : 503,
          ready
            ? { ready: true }
            : { error: 'no healthy worker', code: 'GROVE_ERR_UNAVAILABLE', ready: false },
          requestId,
        );
        return true;
      }
      case '/v2/models': {
        const models = [...this.workers.models()]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([name, vs]) => ({ name, versions: [...vs].sort((a, b) => Number(a) - Number(b)) }));
        const problems = this.workers.problems();
        replyJson(res, 200, problems.length > 0 ? { models, problems } : { models }, requestId);
        return true;
      }
      case '/metrics':
        this.metrics.text().then(
          (text) =>
            res.send(
              200,
              ['content-type', this.metrics.registry.contentType, 'x-request-id', requestId],
              text,
            ),
          (err) => replyError(res, err, requestId),
        );
        return true;
    }
    for (const route of FAN_OUT_ROUTES) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      const model = decode(m[1]!);
      const version = decode(m[2]!);
      if (!this.workers.versionsOf(model)?.has(version)) {
        replyError(
          res,
          this.workers.versionsOf(model)
            ? new VersionNotFoundError(model, version)
            : this.unknownModel(model),
          requestId,
        );
        return true;
      }
      fanOut(this.workers, model, version, path, requestId)
        .then(
          (bodies) => {
            if (bodies.length === 0)
              throw new UnavailableError(`no healthy worker holds model '${model}' version ${version}`);
            const merged = route.merge(bodies);
            // The monitor's merge names the version's sha256 (DESIGN.md, Tracing: every response names it).
            const sha = (merged as { sha256?: unknown } | null)?.sha256;
            const trace = ['x-grove-model', model, 'x-grove-model-version', version];
            if (typeof sha === 'string') trace.push('x-grove-model-sha256', sha);
            replyJson(res, 200, merged ?? bodies[0], requestId, trace);
          },
          (err) => replyError(res, err, requestId),
        )
        .catch((err) => replyError(res, err, requestId));
      return true;
    }
    return false;
  }

  /**
   * A model no usable worker lists: 404 once some worker is serving (it really is unknown), but 503
   * while none is (the gateway is still starting or every worker is down, so a client should retry
   * rather than conclude the model does not exist).
   */
  private unknownModel(model: string): GroveError {
    if (this.workers.anyUsable().length === 0)
      return new UnavailableError(`no worker is ready yet to serve model '${model}'; retry shortly`);
    // A model whose versions all failed to load is known: say why (gateway/upstream/worker-set.ts).
    const why = this.workers.unavailableReason(model);
    if (why !== undefined)
      return new UnavailableError(
        `model '${model}' has no READY version (${why})`,
        'GROVE_ERR_MODEL_UNAVAILABLE',
      );
    return new ModelNotFoundError(model);
  }

  /** The version a request is served by, or an error. */
  chooseVersion(
    headers: IncomingHttpHeaders,
    model: string,
    version: string | undefined,
  ): string | GroveError {
    const known = this.workers.versionsOf(model);
    if (!known) return this.unknownModel(model);
    if (version !== undefined) return known.has(version) ? version : new VersionNotFoundError(model, version);
    const split = this.splits.get(model);
    if (split) {
      let key: string | undefined;
      if (split.sticky) {
        const h = headers[split.sticky];
        key = Array.isArray(h) ? h[0] : h;
      }
      const v = split.choose(key, this.rng, (x) => this.workers.hasUsable(model, x));
      if (v !== undefined) return v;
    }
    return (
      this.workers.latestUsable(model) ?? new UnavailableError(`no healthy worker can serve model '${model}'`)
    );
  }

  private predict(
    reqHeaders: IncomingHttpHeaders,
    res: Reply,
    requestId: string,
    verb: string,
    model: string,
    explicit: string | undefined,
    body: Buffer,
    query: string,
  ): void {
    const v = this.chooseVersion(reqHeaders, model, explicit);
    if (typeof v !== 'string') {
      replyError(res, v, requestId);
      return;
    }
    const m = encodeURIComponent(model);
    const path =
      verb === 'infer'
        ? `/v2/models/${m}/versions/${v}/infer${query}`
        : `/v1/models/${m}/versions/${v}:${verb}${query}`;
    const start = performance.now();
    if (verb !== 'batch' && query === '' && body.length > 0 && body.length < 65536) {
      const text = body.toString('utf8');
      const part =
        verb === 'predict'
          ? parsePredictRows(text, this.opts.maxCoalesceRows)
          : parseInferRows(text, this.opts.maxCoalesceRows);
      if (part) {
        const item: Item = { part, res, requestId, start, path, body, shadow: null };
        const shadow = explicit === undefined ? this.splits.get(model)?.config.shadow : undefined;
        if (
          shadow &&
          shadow.version !== v &&
          this.rng() < shadow.fraction &&
          this.workers.hasUsable(model, shadow.version)
        ) {
          item.shadow = new ShadowPair(model, v, shadow.version, this.metrics);
          const m2 = encodeURIComponent(model);
          const spath =
            part.kind === KIND_PREDICT
              ? `/v1/models/${m2}/versions/${shadow.version}:predict`
              : `/v2/models/${m2}/versions/${shadow.version}/infer`;
          this.coalescer.enqueue(model, shadow.version, {
            part,
            res: null,
            requestId,
            start,
            path: spath,
            body,
            shadow: item.shadow,
          });
        }
        this.coalescer.enqueue(model, v, item);
        return;
      }
    }
    this.caller
      .call({ model, version: v }, 'POST', path, this.upstreamHeaders(reqHeaders, requestId), body, 1)
      .then(
        (a) => this.respond(res, requestId, start, model, v, a, a.body, true),
        (err) => this.fail(res, requestId, start, model, v, err),
      );
  }

  private forward(
    req: IncomingMessage,
    res: Reply,
    requestId: string,
    path: string,
    url: string,
    body: Buffer,
  ): void {
    const m = MODEL_RE.exec(path);
    let model: string | null = null;
    let version: string | null = null;
    if (m) {
      model = decode(m[1]!);
      version = m[2] === undefined ? null : decode(m[2]);
      const known = this.workers.versionsOf(model);
      if (!known) {
        replyError(res, this.unknownModel(model), requestId);
        return;
      }
      if (version !== null && !known.has(version)) {
        replyError(res, new VersionNotFoundError(model, version), requestId);
        return;
      }
    }
    const start = performance.now();
    this.caller
      .call(
        { model, version },
        req.method ?? 'GET',
        url,
        this.upstreamHeaders(req.headers, requestId),
        body.length ? body : null,
        1,
      )
      .then(
        (a) => this.respond(res, requestId, start, null, null, a, a.body, true),
        (err) => replyError(res, err, requestId),
      );
  }

  private upstreamHeaders(h: IncomingHttpHeaders, requestId: string): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = { 'x-request-id': requestId };
    for (const k in h) {
      if (DROP.has(k)) continue;
      const v = h[k];
      if (v !== undefined) out[k] = v;
    }
    return out;
  }

  /** Writes an upstream answer (whole or one client's slice of a merged one). */
  respond(
    res: Reply,
    requestId: string,
    start: number,
    model: string | null,
    version: string | null,
    a: UpstreamAnswer,
    body: string | Buffer,
    passHeaders: boolean,
  ): void {
    if (res.done) return;
    const uh = a.headers;
    const headers: string[] = [];
    if (passHeaders) {
      for (const k in uh) {
        if (DROP.has(k) || k === 'date' || k === 'x-grove-model-version') continue;
        const v = uh[k];
        if (v === undefined) continue;
        if (Array.isArray(v)) for (const x of v) headers.push(k, x);
        else headers.push(k, v);
      }
    } else {
      headers.push('content-type', 'application/json');
      const sha = uh['x-grove-model-sha256'];
      if (sha) headers.push('x-grove-model-sha256', sha as string);
      const name = uh['x-grove-model'];
      if (name) headers.push('x-grove-model', name as string);
    }
    const served = (uh['x-grove-model-version'] as string | undefined) ?? version;
    if (served) headers.push('x-grove-model-version', served);
    headers.push('x-grove-worker', a.worker.url, 'x-request-id', requestId);
    res.send(a.status, headers, body);
    if (model !== null)
      this.metrics.observe(model, served ?? version ?? '', a.status, (performance.now() - start) / 1000);
  }

  fail(res: Reply, requestId: string, start: number, model: string, version: string, err: unknown): void {
    const g = toGroveError(err);
    this.metrics.observe(model, version, g.statusCode, (performance.now() - start) / 1000);
    replyError(res, g, requestId);
  }

  /** For the coalescer: one client's answer. */
  respondItem = (
    it: Item,
    model: string,
    version: string,
    a: UpstreamAnswer,
    body: string | Buffer,
  ): void => {
    this.respond(it.res!, it.requestId, it.start, model, version, a, body, typeof body !== 'string');
  };

  failItem = (it: Item, model: string, version: string, err: unknown): void => {
    if (!it.res) {
      it.shadow?.set('shadow', null);
      return;
    }
    this.fail(it.res, it.requestId, it.start, model, version, err);
  };
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
