// Starts a worker: one HTTP server over a model repository (DESIGN.md: worker). It owns the
// repository (loading, watching, swapping), the piscina pool, the metrics and the routes; other
// modules extend it through `router.add` and `addObserver`. close() is graceful: stop accepting,
// let in-flight requests finish, then stop the pool and the watchers.
import type { Server } from 'node:net';
import { type Logger, pino } from 'pino';
import type { Registry } from 'prom-client';
import { type GrpcListener, listenGrpc } from '../shared/protocol/grpc/inference-service.js';
import { startTracing, type Tracing } from '../shared/tracing/tracing.js';
import { addBatchRoutes } from './batch/batch-route.js';
import { Predictor } from './execution/predictor.js';
import { workerGrpcBackend } from './grpc/worker-grpc-backend.js';
import { Router } from './http/router.js';
import { WorkerServer } from './http/worker-server.js';
import { WorkerMetrics } from './metrics/worker-metrics.js';
import { attachMonitoring, type MonitoringOptions } from './monitor/attach-monitoring.js';
import type { PredictionObserver } from './observer.js';
import { PredictPool } from './pool/predict-pool.js';
import { ModelRepository } from './repository/model-repository.js';
import { addRepositoryRoutes } from './repository-api/repository-routes.js';
import { addInfoRoutes } from './routes/info-routes.js';
import { addPredictRoutes } from './routes/predict-routes.js';
import { addTfStatusRoutes } from './routes/tf-status-routes.js';
import type { WorkerContext } from './worker-context.js';

export interface WorkerOptions {
  modelsDir: string;
  /** Single-model mode: modelsDir holds one model file (or modelsDir/1 does), served as this name, version 1. */
  singleModel?: string;
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
  /** Serve the Open Inference Protocol's gRPC service on this port too (0 = any free port). */
  grpcPort?: number;
  /** OpenTelemetry tracing; default: as the OTEL_* environment variables say (shared/tracing). */
  tracing?: Tracing | null;
  /** Turns the model repository API on (worker/repository-api); every call needs this bearer token. */
  adminToken?: string;
  /** Largest repository load request (base64 model files inside JSON). Default 256 MiB. */
  maxUploadBytes?: number;
}

export interface RunningWorker {
  url: string;
  port: number;
  /** `host:port` of the gRPC service, or null when it is off. */
  grpcAddress: string | null;
  /** The listening server (the fast front; node:http serves what it hands over). */
  server: Server;
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

export async function startWorker(opts: WorkerOptions): Promise<RunningWorker> {
  const logger = opts.logger ?? pino({ name: 'grove-worker' });
  const ownTracing = opts.tracing === undefined;
  const tracing = ownTracing ? startTracing({ serviceName: 'grove-worker', logger }) : opts.tracing!;
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
    singleModel: opts.singleModel,
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
    tracing,
    extensions: ['binary_tensor_data'],
  };
  const router = new Router();
  addInfoRoutes(router, w);
  addPredictRoutes(router, w);
  addTfStatusRoutes(router, w);
  if (opts.adminToken) {
    addRepositoryRoutes(router, w, {
      token: opts.adminToken,
      root: opts.modelsDir,
      maxUploadBytes: opts.maxUploadBytes ?? 256 * 1024 * 1024,
      timeoutMs: Math.max(requestTimeoutMs, 60_000),
      settleMs: opts.settleMs ?? 300,
    });
  }
  addBatchRoutes(router, w);

  await repository.start();
  const server = new WorkerServer({
    router,
    metrics,
    logger,
    maxBodyBytes: w.maxBodyBytes,
    requestTimeoutMs,
    tracing,
  });
  const repo = repository;
  const port = await server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', opts.exclusive ?? false);
  const host = opts.host ?? '127.0.0.1';
  let grpc: GrpcListener | null = null;
  if (opts.grpcPort !== undefined) {
    const backend = workerGrpcBackend(w);
    const httpInflight = metrics.inflightNow;
    metrics.inflightNow = () => httpInflight() + backend.inflight();
    try {
      grpc = await listenGrpc({ host, port: opts.grpcPort, backend, maxMessageBytes: w.maxBodyBytes });
    } catch (err) {
      await server.close();
      await repo.close();
      await pool.close();
      metrics.close();
      throw err;
    }
  }
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const observers = predictor.observers;
  let closing: Promise<void> | null = null;

  const running: RunningWorker = {
    url: `http://${urlHost}:${port}`,
    port,
    grpcAddress: grpc?.address ?? null,
    server: server.server,
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
        await Promise.all([server.close(), grpc?.close(requestTimeoutMs)]);
        await repo.close();
        await Promise.allSettled(observers.map((o) => o.close?.()));
        await pool.close();
        metrics.close();
        if (ownTracing) await tracing?.shutdown();
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
