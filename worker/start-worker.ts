// Starts a worker: one HTTP server over a model repository (DESIGN.md: worker). It owns the
// repository (loading, watching, swapping), the piscina pool, the metrics and the routes; other
// modules extend it through `router.add` and `addObserver`. close() is graceful: stop accepting,
// let in-flight requests finish, then stop the pool and the watchers.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Logger, pino } from 'pino';
import type { Registry } from 'prom-client';
import { TimeoutError, toGroveError } from '../shared/errors/grove-error.js';
import { addBatchRoutes } from './batch/batch-route.js';
import { Predictor } from './execution/predictor.js';
import { requestIdOf } from './http/request-id.js';
import { sendError } from './http/respond.js';
import { type RequestContext, Router } from './http/router.js';
import { WorkerMetrics } from './metrics/worker-metrics.js';
import { attachMonitoring, type MonitoringOptions } from './monitor/attach-monitoring.js';
import type { PredictionObserver } from './observer.js';
import { PredictPool } from './pool/predict-pool.js';
import { ModelRepository } from './repository/model-repository.js';
import { addInfoRoutes } from './routes/info-routes.js';
import { addPredictRoutes } from './routes/predict-routes.js';
import type { WorkerContext } from './worker-context.js';

export interface WorkerOptions {
  modelsDir: string;
  port?: number;
  host?: string;
  /** Passed to server.listen: under node:cluster each worker must own its port. */
  exclusive?: boolean;
  logger?: Logger;
  /** Request body limit for JSON requests (413 above it). Default 32 MiB. */
  maxBodyBytes?: number;
  /** Rows per JSON request (413 above it; use :batch). Default 100 000. */
  maxRows?: number;
  /** A non-streamed request must be answered within this (504). Default 30 s. */
  requestTimeoutMs?: number;
  /** Requests with more rows than this run on the pool; fewer run inline. Default 256. */
  inlineRowThreshold?: number;
  poolThreads?: number;
  /** Pool thread priority drop (Linux nice, default 0; env GROVE_POOL_NICE). */
  poolNice?: number;
  rescanIntervalMs?: number;
  /** A model file must be this old before it is loaded (it may still be being written). */
  settleMs?: number;
  /** Drift monitoring, alert webhook and prediction log (worker/monitor/attach-monitoring.ts). */
  monitoring?: MonitoringOptions;
}

export interface RunningWorker {
  url: string;
  port: number;
  server: http.Server;
  repository: ModelRepository;
  router: Router;
  metrics: Registry;
  logger: Logger;
  addObserver(o: PredictionObserver): void;
  /** READY versions per model. */
  liveVersions(): Record<string, string[]>;
  onVersionsChange(cb: () => void): void;
  close(): Promise<void>;
}

interface ActiveRequest extends RequestContext {
  res: http.ServerResponse;
  done: boolean;
}

export async function startWorker(opts: WorkerOptions): Promise<RunningWorker> {
  const logger = opts.logger ?? pino({ name: 'grove-worker' });
  const requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
  const pool = new PredictPool({
    threads: opts.poolThreads,
    taskTimeoutMs: requestTimeoutMs,
    niceIncrement:
      opts.poolNice ?? (process.env.GROVE_POOL_NICE ? Number(process.env.GROVE_POOL_NICE) : undefined),
  });
  let repository: ModelRepository | null = null;
  const metrics = new WorkerMetrics(() => repository);
  repository = new ModelRepository({
    root: opts.modelsDir,
    pool,
    logger,
    rescanIntervalMs: opts.rescanIntervalMs ?? 2000,
    settleMs: opts.settleMs ?? 300,
    events: {
      loaded: (v) => metrics.loads.labels(v.name, v.version).inc(),
      failed: (name, version) => metrics.loadFailures.labels(name, version).inc(),
    },
  });
  const predictor = new Predictor(pool, metrics, logger, opts.inlineRowThreshold ?? 256);
  const w: WorkerContext = {
    repository,
    predictor,
    pool,
    metrics,
    logger,
    maxBodyBytes: opts.maxBodyBytes ?? 32 * 1024 * 1024,
    maxRows: opts.maxRows ?? 100_000,
    draining: false,
  };
  const router = new Router();
  addInfoRoutes(router, w);
  addPredictRoutes(router, w);
  addBatchRoutes(router, w);

  const active = new Set<ActiveRequest>();
  metrics.inflightNow = () => active.size;
  let drainWaiter: (() => void) | null = null;
  const repo = repository;

  function finish(ctx: ActiveRequest, status: number): void {
    if (ctx.done) return;
    ctx.done = true;
    active.delete(ctx);
    const served = ctx.served as Parameters<typeof metrics.record>[0];
    metrics.record(served, ctx.route, status, (performance.now() - ctx.start) / 1000);
    if (drainWaiter !== null && active.size === 0) drainWaiter();
  }

  async function dispatch(
    req: http.IncomingMessage,
    ctx: ActiveRequest,
    handler: (...a: never[]) => unknown,
    params: Record<string, string>,
  ): Promise<void> {
    let status: number;
    try {
      const r = (handler as unknown as (...a: unknown[]) => unknown)(req, ctx.res, params, ctx);
      const v = r instanceof Promise ? await r : r;
      status = typeof v === 'number' ? v : ctx.res.statusCode;
    } catch (err) {
      if (ctx.done) return;
      const e = toGroveError(err);
      if (e.statusCode >= 500 && e.code === 'GROVE_ERR_INTERNAL') {
        logger.error(
          { event: 'request_failed', requestId: ctx.requestId, err: (err as Error)?.stack ?? String(err) },
          'request failed',
        );
      }
      status = sendError(ctx.res, e, ctx.requestId, ctx.served);
      if (e.statusCode === 413) req.pause();
    }
    finish(ctx, status);
  }

  const server = http.createServer(
    { keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 60_000 },
    (req, res) => {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const ctx: ActiveRequest = {
        requestId: requestIdOf(req),
        requestIds: req.headers['x-grove-request-ids'] as string | undefined,
        start: performance.now(),
        model: '',
        version: '',
        route: 'other',
        query: q === -1 ? '' : url.slice(q + 1),
        served: null,
        streaming: false,
        res,
        done: false,
      };
      active.add(ctx);
      let match: ReturnType<Router['find']>;
      try {
        match = router.find(req.method ?? 'GET', q === -1 ? url : url.slice(0, q));
      } catch (err) {
        finish(ctx, sendError(res, err, ctx.requestId));
        return;
      }
      ctx.route = match.name;
      void dispatch(req, ctx, match.handler as never, match.params);
    },
  );
  server.on('clientError', (err, socket) => {
    // Malformed HTTP (bad request line, oversized headers): answer 400 if the socket still can.
    if (socket.writable && !(err as { code?: string }).code?.startsWith('ECONN')) {
      socket.end(
        'HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-type: application/json\r\n\r\n{"error":"malformed HTTP request","code":"GROVE_ERR_BAD_HTTP"}',
      );
    } else socket.destroy();
  });

  // The request timeout: node's own requestTimeout would also cut long :batch streams, so a
  // sweeper answers 504 for non-streamed requests that outlive the limit.
  const sweeper = setInterval(
    () => {
      const now = performance.now();
      for (const ctx of active) {
        if (ctx.streaming || now - ctx.start < requestTimeoutMs) continue;
        finish(
          ctx,
          sendError(
            ctx.res,
            new TimeoutError(`request not answered within ${requestTimeoutMs} ms`),
            ctx.requestId,
          ),
        );
      }
    },
    Math.min(1000, requestTimeoutMs),
  );
  sweeper.unref();

  await repository.start();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(
      { port: opts.port ?? 0, host: opts.host ?? '127.0.0.1', exclusive: opts.exclusive ?? false },
      () => {
        server.off('error', reject);
        resolve();
      },
    );
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host ?? '127.0.0.1';
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const observers = predictor.observers;
  let closing: Promise<void> | null = null;

  const running: RunningWorker = {
    url: `http://${urlHost}:${port}`,
    port,
    server,
    repository,
    router,
    metrics: metrics.registry,
    logger,
    addObserver: (o) => observers.push(o),
    liveVersions: () => repo.liveVersions(),
    onVersionsChange: (cb) => repo.onChange(cb),
    close() {
      closing ??= (async () => {
        w.draining = true;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (active.size > 0) {
          await Promise.race([
            new Promise<void>((resolve) => (drainWaiter = resolve)),
            new Promise<void>((resolve) => setTimeout(resolve, requestTimeoutMs).unref()),
          ]);
        }
        server.closeAllConnections();
        await closed;
        clearInterval(sweeper);
        await repo.close();
        await Promise.allSettled(observers.map((o) => o.close?.()));
        await pool.close();
        metrics.close();
      })();
      return closing;
    },
  };
  // Drift monitor, alarms and the prediction log (worker/monitor/); their observers close with the worker.
  try {
    attachMonitoring(running, opts.monitoring ?? {});
  } catch (err) {
    // Bad monitoring options (e.g. a malformed --alert-webhook): stop what started, then report.
    await running.close();
    throw err;
  }
  return running;
}
