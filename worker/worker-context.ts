// What the worker's routes share: the repository, the predictor, the pool, metrics and limits.
import type { Logger } from 'pino';
import type { Tracing } from '../shared/tracing/tracing.js';
import type { Predictor } from './execution/predictor.js';
import type { WorkerMetrics } from './metrics/worker-metrics.js';
import type { PredictPool } from './pool/predict-pool.js';
import type { ModelRepository } from './repository/model-repository.js';

export interface WorkerContext {
  repository: ModelRepository;
  predictor: Predictor;
  pool: PredictPool;
  metrics: WorkerMetrics;
  logger: Logger;
  maxBodyBytes: number;
  maxRows: number;
  /** Set when shutdown starts: readiness turns 503 so balancers stop sending. */
  draining: boolean;
  /** OpenTelemetry tracing, or null when it is off (shared/tracing). */
  tracing: Tracing | null;
  /** Protocol extensions this worker serves (server metadata). */
  extensions: string[];
}
