// Requests the gateway passes to one worker as they are, streamed both ways with http-proxy-3:
// metadata, per-model readiness, routes the gateway does not know (a worker answers them), and
// `:batch` streams (docs/api.md, Batch streaming: the client's CSV or NDJSON body is piped to one
// worker as it arrives and the streamed answer piped back, with backpressure both ways, so the
// gateway holds a few chunks, never the batch, and no body limit applies). Hop-by-hop fields are
// dropped and X-Forwarded-For / Forwarded added as on the prediction path (forward-headers.ts). A
// request without a body is retried once on another worker when its connection failed before any
// answer; one with a body (a batch) is not: once its first bytes went to a worker they cannot be
// sent again. An error before the answer starts is a JSON error; after it, the connection is cut,
// as the worker itself does.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { createProxyServer } from 'http-proxy-3';
import { type GroveError, TimeoutError, UpstreamError } from '../../shared/errors/grove-error.js';
import type { ClientCall } from '../forward/client-call.js';
import { upstreamHeaders } from '../forward/forward-headers.js';
import type { Forwarder } from '../forward/forwarder.js';
import type { CallTarget, UpstreamCaller } from '../forward/upstream-call.js';
import type { UpstreamWorker } from '../upstream/upstream-worker.js';

/** A batch answer may take this long to start, and its chunks this long apart. */
const BATCH_IDLE_MS = 60_000;

const ANSWER_HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'date',
];

interface Proxied {
  call: ClientCall;
  target: CallTarget;
  w: UpstreamWorker;
  t0: number;
  /** The worker's status once its answer started, else 0. */
  status: number;
  timedOut: boolean;
  stream: boolean;
  retried: boolean;
  attemptOpen: boolean;
}

export class PassThrough {
  private readonly proxy = createProxyServer({ xfwd: false, changeOrigin: true, ws: false });
  private readonly live = new WeakMap<IncomingMessage, Proxied>();

  constructor(
    private readonly caller: UpstreamCaller,
    private readonly forwarder: Forwarder,
    private readonly timeoutMs: number,
  ) {
    this.proxy.on('proxyReq', (proxyReq, req) => {
      const p = this.live.get(req);
      if (p) proxyReq.on('timeout', () => (p.timedOut = true));
    });
    this.proxy.on('proxyRes', (proxyRes, req) => {
      const p = this.live.get(req);
      if (!p) return;
      p.status = proxyRes.statusCode ?? 0;
      const h = proxyRes.headers;
      for (const k of ANSWER_HOP_BY_HOP) delete h[k];
      const listed = proxyRes.headers.connection;
      if (typeof listed === 'string') for (const n of listed.split(',')) delete h[n.trim().toLowerCase()];
      h['x-grove-worker'] = p.w.name;
      h['x-request-id'] = p.call.requestId;
      if (h['x-grove-model-version'] === undefined && p.call.version !== '')
        h['x-grove-model-version'] = p.call.version;
      // An error answer may come before the whole body was sent: do not read the rest of it.
      if (p.stream && p.status >= 400) h.connection = 'close';
    });
  }

  /**
   * Streams `req` to a worker holding `target` at `path` (the version resolved for a batch) and its
   * answer back; ends `call`.
   */
  forward(
    req: IncomingMessage,
    res: ServerResponse,
    call: ClientCall,
    target: CallTarget,
    path: string,
    stream: boolean,
  ): void {
    const w = this.caller.pick(target, undefined);
    if (w === undefined) {
      this.refuse(call, this.caller.unavailable(target), stream);
      return;
    }
    const socket = req.socket as { remoteAddress?: string; encrypted?: boolean };
    const flat = upstreamHeaders(
      req.headers,
      call.requestId,
      socket.remoteAddress ?? '',
      socket.encrypted === true,
    );
    const headers: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) {
      const k = flat[i]!;
      headers[k] = headers[k] === undefined ? flat[i + 1]! : `${headers[k]}, ${flat[i + 1]}`;
    }
    const cl = req.headers['content-length'];
    if (cl !== undefined) headers['content-length'] = cl;
    req.headers = headers;
    req.url = path;
    const p: Proxied = {
      call,
      target,
      w,
      t0: 0,
      status: 0,
      timedOut: false,
      stream,
      retried: false,
      attemptOpen: false,
    };
    this.live.set(req, p);
    res.once('close', () => this.closed(req, res, p));
    this.attempt(req, res, p, null);
  }

  private attempt(req: IncomingMessage, res: ServerResponse, p: Proxied, buffer: Readable | null): void {
    const w = p.w;
    p.t0 = performance.now();
    p.attemptOpen = true;
    w.outstanding++;
    w.requests++;
    w.callStarted(p.t0);
    this.proxy.web(
      req,
      res,
      {
        target: w.url,
        agent: w.agent,
        proxyTimeout: p.stream ? BATCH_IDLE_MS : this.timeoutMs,
        ...(buffer ? { buffer: buffer as never } : {}),
      },
      (err) => this.failed(req, res, p, err as Error & { code?: string }),
    );
  }

  private endAttempt(p: Proxied): void {
    if (!p.attemptOpen) return;
    p.attemptOpen = false;
    p.w.outstanding--;
    p.w.callEnded(p.t0, performance.now() - p.t0);
  }

  private failed(
    req: IncomingMessage,
    res: ServerResponse,
    p: Proxied,
    err: Error & { code?: string },
  ): void {
    const clientGone = res.destroyed || (req.destroyed && !req.complete);
    const code = err.code ?? '';
    this.endAttempt(p);
    if (clientGone) return; // not the worker's fault (nginx logs 499); closed() ends the call
    if (p.status === 0) this.caller.fail(p.w, code === 'ECONNREFUSED');
    this.caller.log?.({
      worker: p.w.url,
      kind: p.timedOut ? 'timeout' : 'lost',
      detail: code || err.message,
    });
    if (res.headersSent) {
      res.destroy(err);
      return;
    }
    // Nothing was answered and the request has no body (it cannot have been half sent): retry once.
    const bodiless = req.headers['content-length'] === undefined || req.headers['content-length'] === '0';
    if (!p.retried && !p.timedOut && bodiless && !p.stream) {
      const next = this.caller.pick(p.target, p.w);
      if (next !== undefined) {
        p.retried = true;
        p.w = next;
        this.attempt(req, res, p, Readable.from([]));
        return;
      }
    }
    const e: GroveError = p.timedOut
      ? new TimeoutError('the worker did not answer in time')
      : code === 'ECONNREFUSED'
        ? this.caller.unavailable(p.target)
        : new UpstreamError("the worker's connection closed before it answered");
    this.refuse(p.call, e, p.stream);
    if (!req.complete) req.destroy();
  }

  private refuse(call: ClientCall, e: GroveError, stream: boolean): void {
    // A batch's body is not read after an error: close rather than drain a large upload.
    this.forwarder.fail(call, e, stream ? ['connection', 'close'] : undefined);
  }

  private closed(req: IncomingMessage, res: ServerResponse, p: Proxied): void {
    const done = res.writableFinished;
    const status = p.status;
    if (p.attemptOpen) {
      this.endAttempt(p);
      if (done && status > 0) {
        if (status >= 500) this.caller.fail(p.w, false);
        else p.w.outlier.success();
      }
    }
    this.live.delete(req);
    // 499: the client went away first (nginx's code for it).
    this.forwarder.finish(p.call, done && status > 0 ? status : 499, p.call.version, p.w.url, false);
  }
}
