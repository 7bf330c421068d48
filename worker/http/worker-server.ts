// The worker's HTTP serving. The fast front (shared/http/fast-front.ts) reads POST predict/infer
// requests off the raw socket and answers them with one write; node:http serves everything else
// (info routes, /metrics, :batch streams, chunked or large bodies, HTTP/1.0). Both paths share one
// request lifecycle: a request id, the active set (in-flight gauge, request timeout, graceful
// drain) and one metrics record per request. Why a second HTTP path: node:http's per-request
// objects and streams cost more than parsing, predicting and answering a one-row request together
// (the worker's benchmark peer is a bare node:http server answering a constant).
import type { Server as HttpServer, IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import type { Logger } from 'pino';
import { type GroveError, TimeoutError, toGroveError } from '../../shared/errors/grove-error.js';
import { createFastFront, type FastFront, type FastRequest } from '../../shared/http/fast-front.js';
import { createNodeServer } from '../../shared/http/node-server.js';
import type { Reply } from '../../shared/http/reply.js';
import { requestIdOf } from '../../shared/http/request-id.js';
import { epochNow, epochOf, SpanStatusCode, type Tracing, traceIdOf } from '../../shared/tracing/tracing.js';
import type { WorkerMetrics } from '../metrics/worker-metrics.js';
import type { LoadedVersion } from '../repository/loaded-version.js';
import { replyError, replyModelJson, sendError } from './respond.js';
import type { RequestContext, RouteHandler, RouteParams, Router } from './router.js';

export interface WorkerServerOptions {
  router: Router;
  metrics: WorkerMetrics;
  logger: Logger;
  maxBodyBytes: number;
  /** A non-streamed request must be answered within this (504). */
  requestTimeoutMs: number;
  /** OpenTelemetry tracing (shared/tracing), or null when it is off. */
  tracing: Tracing | null;
}

/** One request in flight: answered through `res` (node:http) or `reply` (fast front). */
interface ActiveRequest extends RequestContext {
  /** The caller's traceparent: its trace id goes into log lines even when tracing is off. */
  traceparent: string | undefined;
  res: ServerResponse | null;
  reply: Reply | null;
  done: boolean;
}

function newRequest(
  headers: IncomingHttpHeaders,
  query: string,
  res: ServerResponse | null,
  reply: Reply | null,
): ActiveRequest {
  return {
    requestId: requestIdOf(headers),
    requestIds: headers['x-grove-request-ids'] as string | undefined,
    start: performance.now(),
    model: '',
    version: '',
    route: 'other',
    query,
    served: null,
    streaming: false,
    trace: null,
    traceparent: headers.traceparent as string | undefined,
    res,
    reply,
    done: false,
  };
}

/** Starts the request's `receive` span, a child of the caller's traceparent (W3C trace context). */
function traceRequest(
  tracing: Tracing,
  ctx: ActiveRequest,
  method: string,
  headers: IncomingHttpHeaders,
): void {
  ctx.trace = tracing.startRequest(
    'receive',
    (k) => {
      const v = headers[k];
      return typeof v === 'string' ? v : undefined;
    },
    epochOf(ctx.start),
    { 'http.request.method': method, 'grove.request_id': ctx.requestId },
  );
}

const MAX_HEAD = 64 * 1024;
const NO_HEADERS: IncomingHttpHeaders = Object.freeze(Object.create(null));

export class WorkerServer {
  readonly http: HttpServer;
  private readonly front: FastFront;
  private readonly active = new Set<ActiveRequest>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly o: WorkerServerOptions) {
    o.metrics.inflightNow = () => this.active.size;
    // A gateway that merges many clients' one-row calls names each client's request id in
    // x-grove-request-ids (up to 128 ids of up to 128 characters, URI-encoded): ~50 KB of head.
    this.http = createNodeServer(this.onNodeRequest, { bodyLimit: o.maxBodyBytes, maxHeaderSize: MAX_HEAD });
    this.front = createFastFront(this, this.http, {
      bodyLimit: o.maxBodyBytes,
      stallTimeoutMs: o.requestTimeoutMs,
      maxHeadBytes: MAX_HEAD,
    });
    // The request timeout: node's own requestTimeout would also cut long :batch streams, so a
    // sweeper answers 504 for non-streamed requests that outlive the limit.
    const limit = o.requestTimeoutMs;
    this.sweeper = setInterval(
      () => {
        const now = performance.now();
        for (const ctx of this.active) {
          if (ctx.streaming || now - ctx.start < limit) continue;
          this.fail(ctx, new TimeoutError(`request not answered within ${limit} ms`));
        }
      },
      Math.min(1000, limit),
    );
    this.sweeper.unref();
  }

  /** The listening socket server (the fast front's; node:http only receives handed-over connections). */
  get server(): Server {
    return this.front.server;
  }

  listen(port: number, host: string, exclusive: boolean): Promise<number> {
    const s = this.front.server;
    return new Promise((resolve, reject) => {
      s.once('error', reject);
      s.listen({ port, host, exclusive }, () => {
        s.off('error', reject);
        resolve((s.address() as AddressInfo).port);
      });
    });
  }

  /**
   * Stops accepting, waits (at most the request timeout) for in-flight requests, including ones
   * the fast front has only partly received, then closes every connection.
   */
  async close(): Promise<void> {
    const closed = this.front.close(this.o.requestTimeoutMs);
    const deadline = performance.now() + this.o.requestTimeoutMs;
    while ((this.active.size > 0 || this.front.pendingRequests() > 0) && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    this.front.destroyConnections();
    await closed;
    clearInterval(this.sweeper);
  }

  /** The fast front's entry: a POST with its whole body. False hands the connection to node:http. */
  handleFast(req: FastRequest, reply: Reply): boolean {
    // 404, 405 and bad paths are answered by node:http, like every other route.
    const m = this.o.router.findFast(req.path);
    if (m === null) return false;
    const ctx = newRequest(req.headers, req.query === '' ? '' : req.query.slice(1), null, reply);
    ctx.route = m.name;
    if (this.o.tracing !== null) traceRequest(this.o.tracing, ctx, 'POST', req.headers);
    this.active.add(ctx);
    let answer: string | Promise<string>;
    try {
      answer = m.fast(m.params, req.headers, req.body, ctx);
    } catch (err) {
      this.fail(ctx, err);
      return true;
    }
    if (typeof answer === 'string') this.answer(ctx, reply, answer);
    else
      answer.then(
        (text) => this.answer(ctx, reply, text),
        (err) => this.fail(ctx, err),
      );
    return true;
  }

  /** A request that did not fully arrive within the request timeout: 504, as node:http's path answers. */
  stalled(reply: Reply): void {
    const ctx = newRequest(NO_HEADERS, '', null, reply);
    this.active.add(ctx);
    this.fail(ctx, new TimeoutError(`request not received within ${this.o.requestTimeoutMs} ms`));
  }

  private answer(ctx: ActiveRequest, reply: Reply, text: string): void {
    if (ctx.done) return;
    replyModelJson(reply, text, ctx.requestId, ctx.served!);
    this.finish(ctx, 200);
  }

  private readonly onNodeRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const ctx = newRequest(req.headers, q === -1 ? '' : url.slice(q + 1), res, null);
    if (this.o.tracing !== null) traceRequest(this.o.tracing, ctx, req.method ?? 'GET', req.headers);
    this.active.add(ctx);
    let handler: RouteHandler;
    let params: RouteParams;
    try {
      const m = this.o.router.find(req.method ?? 'GET', q === -1 ? url : url.slice(0, q));
      ctx.route = m.name;
      handler = m.handler;
      params = m.params;
    } catch (err) {
      this.fail(ctx, err);
      return;
    }
    void this.dispatch(req, res, ctx, handler, params);
  };

  private async dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: ActiveRequest,
    handler: RouteHandler,
    params: RouteParams,
  ): Promise<void> {
    let status: number;
    try {
      const r = handler(req, res, params, ctx);
      const v = r instanceof Promise ? await r : r;
      status = typeof v === 'number' ? v : res.statusCode;
    } catch (err) {
      const code = this.fail(ctx, err);
      if (code === 413) req.pause();
      return;
    }
    this.finish(ctx, status);
  }

  /** Answers an error (unless the request was already answered) and records it; returns the status. */
  private fail(ctx: ActiveRequest, err: unknown): number {
    if (ctx.done) return 0;
    const e: GroveError = toGroveError(err);
    if (e.statusCode >= 500 && e.code === 'GROVE_ERR_INTERNAL') {
      this.o.logger.error(
        {
          event: 'request_failed',
          requestId: ctx.requestId,
          trace_id: ctx.trace?.traceId ?? traceIdOf(ctx.traceparent),
          err: (err as Error)?.stack ?? String(err),
        },
        'request failed',
      );
    }
    const by = ctx.served as LoadedVersion | null;
    const status =
      ctx.res !== null
        ? sendError(ctx.res, e, ctx.requestId, by)
        : replyError(ctx.reply!, e, ctx.requestId, by);
    this.finish(ctx, status);
    return status;
  }

  private finish(ctx: ActiveRequest, status: number): void {
    if (ctx.done) return;
    ctx.done = true;
    this.active.delete(ctx);
    const seconds = (performance.now() - ctx.start) / 1000;
    this.o.metrics.record(ctx.served as LoadedVersion | null, ctx.route, status, seconds);
    if (ctx.trace !== null) {
      const span = ctx.trace.span;
      span.setAttribute('grove.route', ctx.route);
      span.setAttribute('http.response.status_code', status);
      if (ctx.served !== null) {
        span.setAttribute('grove.model', ctx.served.name);
        span.setAttribute('grove.model_version', ctx.served.version);
      }
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end(epochNow());
    }
    // The access log, at debug level: one line per request, with the trace it belongs to.
    if (this.o.logger.isLevelEnabled('debug')) {
      this.o.logger.debug(
        {
          event: 'request',
          route: ctx.route,
          status,
          ms: Math.round(seconds * 1e5) / 100,
          requestId: ctx.requestId,
          model: ctx.served?.name,
          version: ctx.served?.version,
          trace_id: ctx.trace?.traceId ?? traceIdOf(ctx.traceparent),
          span_id: ctx.trace?.spanId,
        },
        'request',
      );
    }
  }
}
