// The model side of `grove stream`, built from the worker's own parts so a stream consumer holds
// models exactly as a worker does (docs/streaming.md): the model repository (loading, probing,
// hot swap, version policy), the predict pool, the Predictor (inline or pool, rows counted,
// observers told), drift monitoring and the prediction log. No predict API is served: with a
// metrics port, an HTTP listener answers the worker's read-only routes (/metrics, health, model
// metadata and the monitor route) through the worker's router and server.
import type { Logger } from 'pino';
import { Predictor } from '../worker/execution/predictor.js';
import { Router } from '../worker/http/router.js';
import { WorkerServer } from '../worker/http/worker-server.js';
import { WorkerMetrics } from '../worker/metrics/worker-metrics.js';
import {
  type AttachedMonitoring,
  attachMonitoring,
  type MonitoringOptions,
} from '../worker/monitor/attach-monitoring.js';
import { PredictPool } from '../worker/pool/predict-pool.js';
import { ModelRepository } from '../worker/repository/model-repository.js';
import { addInfoRoutes } from '../worker/routes/info-routes.js';
import type { WorkerContext } from '../worker/worker-context.js';

export interface StreamHostOptions {
  modelsDir: string;
  logger: Logger;
  poolThreads?: number;
  /** Batches with more rows than this are predicted on the pool (default 256). */
  inlineRowThreshold?: number;
  rescanIntervalMs?: number;
  settleMs?: number;
  monitoring?: MonitoringOptions;
  /** Serve /metrics and the read-only routes on this port (0 = any); null = no listener. */
  metricsPort?: number | null;
  metricsHost?: string;
}

export interface StreamHost {
  readonly context: WorkerContext;
  readonly monitoring: AttachedMonitoring;
  /** The metrics listener's URL, or null. */
  readonly url: string | null;
  close(): Promise<void>;
}

export async function startStreamHost(o: StreamHostOptions): Promise<StreamHost> {
  const { logger } = o;
  const pool = new PredictPool({ threads: o.poolThreads });
  let repository: ModelRepository | null = null;
  const metrics = new WorkerMetrics(() => repository);
  repository = new ModelRepository({
    root: o.modelsDir,
    pool,
    logger,
    rescanIntervalMs: o.rescanIntervalMs ?? 2000,
    settleMs: o.settleMs ?? 300,
    events: {
      loaded: (v) => metrics.loads.labels(v.name, v.version).inc(),
      failed: (name, version) => metrics.loadFailures.labels(name, version).inc(),
    },
  });
  const predictor = new Predictor(pool, metrics, logger, o.inlineRowThreshold ?? 256);
  const context: WorkerContext = {
    repository,
    predictor,
    pool,
    metrics,
    logger,
    // No predict routes read these: rows come from the stream, one message each.
    maxBodyBytes: 0,
    maxRows: 0,
    draining: false,
    // The metrics listener's few read-only routes are not traced.
    tracing: null,
    extensions: [],
  };
  const router = new Router();
  addInfoRoutes(router, context);
  const repo = repository;
  let monitoring: AttachedMonitoring;
  try {
    monitoring = attachMonitoring(
      {
        router,
        metrics: metrics.registry,
        logger,
        repository: repo,
        addObserver: (obs) => predictor.observers.push(obs),
      },
      o.monitoring ?? {},
    );
  } catch (err) {
    await pool.close();
    metrics.close();
    throw err;
  }
  let server: WorkerServer | null = null;
  let url: string | null = null;
  const close = async () => {
    context.draining = true;
    await server?.close();
    await repo.close();
    await monitoring.close();
    await pool.close();
    metrics.close();
  };
  try {
    await repo.start();
    if (o.metricsPort !== null && o.metricsPort !== undefined) {
      server = new WorkerServer({
        router,
        metrics,
        logger,
        maxBodyBytes: 64 * 1024,
        requestTimeoutMs: 30_000,
        tracing: null,
      });
      const host = o.metricsHost ?? '127.0.0.1';
      const port = await server.listen(o.metricsPort, host, false);
      url = `http://${host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { context, monitoring, url, close };
}
