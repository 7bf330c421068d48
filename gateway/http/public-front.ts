// The gateway's public listener: one route table (shared/http/router.ts) over the API's paths
// (shared/http/api-routes.ts), served from two entries. The fast front hands over POST
// predict/infer requests with their body read; node:http serves the rest. Predictions go to the
// Forwarder; `:batch`, metadata, readiness of a model and paths the gateway does not know stream
// to a worker (pass-through.ts); health, the model list, /metrics and fan-out views are answered
// here (local-routes.ts). Other modules add routes with `addRoute` (before the fallback to a worker).
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { type GroveError, RequestTimeoutError } from '../../shared/errors/grove-error.js';
import { API_ROUTES } from '../../shared/http/api-routes.js';
import type { FastHandler, FastRequest } from '../../shared/http/fast-front.js';
import { readBody } from '../../shared/http/read-body.js';
import { NodeReply, type Reply, replyError } from '../../shared/http/reply.js';
import { newRequestId, requestIdOf } from '../../shared/http/request-id.js';
import { type RouteParams, RouteTable } from '../../shared/http/router.js';
import type { ClientCall } from '../forward/client-call.js';
import { upstreamHeaders } from '../forward/forward-headers.js';
import type { Forwarder } from '../forward/forwarder.js';
import { FAN_OUT_ROUTES } from './fan-out.js';
import type { LocalRoutes } from './local-routes.js';
import type { PassThrough } from './pass-through.js';

/** A route served by node:http: the request, its answer, the path's parameters, the request id. */
export type PublicRouteHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  params: RouteParams,
  requestId: string,
) => void;

/** A bodiless GET the fast front serves (health, model list, metadata and readiness passed on). */
export type FastGetHandler = (req: FastRequest, reply: Reply, params: RouteParams, requestId: string) => void;

interface GatewayRoute {
  /** Set for predict/infer: the fast front serves these too. */
  verb: 'infer' | 'predict' | null;
  node: PublicRouteHandler;
  get?: FastGetHandler;
}

function peerOf(socket: { remoteAddress?: string }): string {
  return socket.remoteAddress ?? '';
}

function queryOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q);
}

/** The model (and version) a path under /v1/models or /v2/models names, for paths the table does not know. */
export function modelOfPath(path: string): { model: string; version: string | undefined } | null {
  const parts = path.split('/');
  if ((parts[1] !== 'v1' && parts[1] !== 'v2') || parts[2] !== 'models' || !parts[3]) return null;
  const cut = (s: string) => {
    const c = s.indexOf(':');
    const v = c < 0 ? s : s.slice(0, c);
    try {
      return decodeURIComponent(v);
    } catch {
      return v;
    }
  };
  if (parts[3].startsWith(':')) return null;
  const model = cut(parts[3]);
  const version = parts[4] === 'versions' && parts[5] ? cut(parts[5]) : undefined;
  return { model, version };
}

export class PublicFront implements FastHandler {
  private readonly table = new RouteTable<GatewayRoute>();

  constructor(
    private readonly forwarder: Forwarder,
    private readonly passThrough: PassThrough,
    private readonly localRoutes: LocalRoutes,
    private readonly bodyLimit: number,
  ) {
    const add = (patterns: readonly string[], method: string, route: GatewayRoute, name: string) => {
      for (const p of patterns) this.table.add(method, p, route, name);
    };
    add(API_ROUTES.infer, 'POST', { verb: 'infer', node: this.predictNode('infer') }, 'infer');
    add(API_ROUTES.predict, 'POST', { verb: 'predict', node: this.predictNode('predict') }, 'predict');
    add(API_ROUTES.batch, 'POST', { verb: null, node: this.batch }, 'batch');
    const local = (f: (r: Reply, id: string) => void): GatewayRoute => ({
      verb: null,
      node: (_q, res, _p, id) => f(new NodeReply(res), id),
      get: (_q, reply, _p, id) => f(reply, id),
    });
    add(
      API_ROUTES.live,
      'GET',
      local((r, id) => this.localRoutes.live(r, id)),
      'health',
    );
    add(
      API_ROUTES.ready,
      'GET',
      local((r, id) => this.localRoutes.ready(r, id)),
      'health',
    );
    add(
      API_ROUTES.models,
      'GET',
      local((r, id) => this.localRoutes.models(r, id)),
      'metadata',
    );
    add(
      API_ROUTES.metrics,
      'GET',
      local((r, id) => this.localRoutes.metricsText(r, id)),
      'metrics',
    );
    for (const f of FAN_OUT_ROUTES)
      add(
        f.patterns,
        'GET',
        { verb: null, node: (q, s, p, id) => this.localRoutes.fanOut(f, q, s, p, id) },
        'fan-out',
      );
    const pass: GatewayRoute = {
      verb: null,
      node: (q, s, p, id) => this.passOn(q, s, p.model, p.version, id),
      get: (q, reply, p, id) => this.fetchFor(q, reply, p.model, p.version, id),
    };
    add(API_ROUTES.modelMetadata, 'GET', pass, 'metadata');
    add(API_ROUTES.modelReady, 'GET', pass, 'ready');
    add(API_ROUTES.tfStatus, 'GET', pass, 'tf_status');
    add(API_ROUTES.tfMetadata, 'GET', pass, 'tf_metadata');
    add(API_ROUTES.server, 'GET', pass, 'server');
  }

  /**
   * Adds a route on the public listener (served before the fallback to a worker): `handler` on
   * node:http, and `get`, when given, for a bodiless GET off the fast front.
   */
  addRoute(
    method: string,
    pattern: string,
    handler: PublicRouteHandler,
    name = pattern,
    get?: FastGetHandler,
  ): void {
    this.table.add(
      method,
      pattern,
      get ? { verb: null, node: handler, get } : { verb: null, node: handler },
      name,
    );
  }

  /** The fast front's entry for POST predict/infer (body already read); false if not such a route. */
  handleFast(req: FastRequest, reply: Reply): boolean {
    if (req.method === 'GET') {
      const g = this.table.lookup('GET', req.path);
      if (g === null || g.value.get === undefined) return false;
      g.value.get(req, reply, g.params, requestIdOf(req.headers));
      return true;
    }
    const m = this.table.lookup('POST', req.path);
    if (m === null || m.value.verb === null) return false;
    const call = this.forwarder.open(reply, requestIdOf(req.headers), peerOf(req.socket), req.headers);
    if (call === null) return true;
    this.forwarder.predict(
      {
        verb: m.value.verb,
        model: m.params.model!,
        version: m.params.version,
        query: req.query,
        headers: req.headers,
        body: req.body,
        peer: call.clientKey,
        secure: (req.socket as TLSSocket).encrypted === true,
      },
      call,
    );
    return true;
  }

  /** The fast front's slow-client answer: a request still arriving after the read timeout. */
  stalled(reply: Reply): void {
    replyError(
      reply,
      new RequestTimeoutError('request not received within the read timeout'),
      newRequestId(),
    );
  }

  /** node:http's entry: everything the fast front handed over. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const requestId = requestIdOf(req.headers);
    let route: GatewayRoute;
    let params: RouteParams;
    try {
      const m = this.table.find(req.method ?? 'GET', path);
      route = m.value;
      params = m.params;
    } catch (err) {
      if ((err as GroveError).statusCode === 404) {
        // A path the gateway does not know: a worker answers it (or says it does not know it either).
        const mp = modelOfPath(path);
        this.passOn(req, res, mp?.model, mp?.version, requestId);
        return;
      }
      replyError(new NodeReply(res), err, requestId);
      return;
    }
    route.node(req, res, params, requestId);
  };

  private predictNode(verb: 'infer' | 'predict'): PublicRouteHandler {
    return (req, res, params, requestId) => {
      const call = this.forwarder.open(new NodeReply(res), requestId, peerOf(req.socket), req.headers);
      if (call === null) return;
      readBody(req, this.bodyLimit).then(
        (body) =>
          this.forwarder.predict(
            {
              verb,
              model: params.model!,
              version: params.version,
              query: queryOf(req.url ?? ''),
              headers: req.headers,
              body,
              peer: call.clientKey,
              secure: (req.socket as TLSSocket).encrypted === true,
            },
            call,
          ),
        (err) => this.forwarder.fail(call, err),
      );
    };
  }

  /** `:batch`: streamed to one worker as it arrives; no body limit, no retry. */
  private readonly batch: PublicRouteHandler = (req, res, params, requestId) => {
    const call = this.forwarder.open(new NodeReply(res), requestId, peerOf(req.socket), req.headers, true);
    if (call === null) return;
    const model = params.model!;
    call.model = model;
    const v = this.forwarder.versions.choose(model, params.version, (name) => {
      const h = req.headers[name];
      return Array.isArray(h) ? h[0] : h;
    });
    if (typeof v !== 'string') {
      // The body is not read: close rather than drain a large upload.
      this.forwarder.fail(call, v, ['connection', 'close']);
      return;
    }
    call.version = v;
    const path = `/v1/models/${encodeURIComponent(model)}/versions/${v}:batch${queryOf(req.url ?? '')}`;
    this.passThrough.forward(req, res, call, { model, version: v }, path, true);
  };

  /** A bodiless GET off the fast front, for a worker holding `model` (and `version`). */
  private fetchFor(
    req: FastRequest,
    reply: Reply,
    model: string | undefined,
    version: string | undefined,
    requestId: string,
  ): void {
    const call = this.openFor(reply, req.headers, req.socket, model, version, requestId);
    if (call !== null) this.fetchOn(call, req.headers, req.socket, model, version, req.path + req.query);
  }

  /** Streams a request to a worker holding `model` (and `version`), or any worker when no model is named. */
  private passOn(
    req: IncomingMessage,
    res: ServerResponse,
    model: string | undefined,
    version: string | undefined,
    requestId: string,
  ): void {
    const call = this.openFor(new NodeReply(res), req.headers, req.socket, model, version, requestId);
    if (call === null) return;
    const h = req.headers;
    const path = req.url ?? '/';
    // Nothing to stream: the pooled path costs a fraction of a proxied request.
    if (req.method === 'GET' && h['transfer-encoding'] === undefined && (h['content-length'] ?? '0') === '0')
      this.fetchOn(call, h, req.socket, model, version, path);
    else
      this.passThrough.forward(
        req,
        res,
        call,
        { model: model ?? null, version: version ?? null },
        path,
        false,
      );
  }

  /** Admits a request for `model` (and `version`): its call, or null once refused (answered). */
  private openFor(
    reply: Reply,
    headers: IncomingHttpHeaders,
    socket: { remoteAddress?: string },
    model: string | undefined,
    version: string | undefined,
    requestId: string,
  ): ClientCall | null {
    if (model !== undefined) {
      const err = this.forwarder.versions.check(model, version);
      if (err !== null) {
        replyError(reply, err, requestId);
        return null;
      }
    }
    return this.forwarder.open(reply, requestId, peerOf(socket), headers);
  }

  /** A bodiless GET to one worker over the pooled connections (Forwarder.fetch). */
  private fetchOn(
    call: ClientCall,
    headers: IncomingHttpHeaders,
    socket: { remoteAddress?: string },
    model: string | undefined,
    version: string | undefined,
    path: string,
  ): void {
    const secure = (socket as TLSSocket).encrypted === true;
    const upstream = upstreamHeaders(headers, call.requestId, peerOf(socket), secure);
    this.forwarder.fetch(call, { model: model ?? null, version: version ?? null }, path, upstream);
  }
}
