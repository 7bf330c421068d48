// Starts a stream consumer (docs/streaming.md): the model host (stream/stream-host.ts), then the
// engine, then the scoring loop between them. Start-up fails fast when the model (or the pinned
// version) cannot serve, so a typo does not turn into a consumer that retries every row. stop()
// is the graceful drain: no more pulls, every received message settled (published and
// acknowledged, dead-lettered or handed back), acknowledgements flushed, then the model side
// closes (prediction log flushed).
import type { Logger } from 'pino';
import type { Rng } from '../gateway/policies/policy.js';
import type { StreamEngine } from './engine/stream-engine.js';
import { ModelScorer } from './model-scorer.js';
import { ScoringLoop } from './scoring-loop.js';
import { type StreamHost, type StreamHostOptions, startStreamHost } from './stream-host.js';
import { StreamMetrics } from './stream-metrics.js';
import { VersionRouter } from './version-router.js';

export interface StreamOptions extends StreamHostOptions {
  /** Opens the engine once the models are loaded (the NATS adapter: stream/nats/nats-engine.ts). */
  openEngine: () => Promise<StreamEngine>;
  model: string;
  version?: string;
  stickyField?: string;
  outputSubject: string;
  deadLetterSubject: string;
  /** Messages per batch (default 256). */
  batch?: number;
  /** Results waiting for store confirmation at most (default 4 batches). */
  maxInflight?: number;
  /** Deliveries before a message is dead-lettered (default 5). */
  maxDeliver?: number;
  /** Largest message body scored (default 1 MiB). */
  maxRowBytes?: number;
  rng?: Rng;
  logger: Logger;
}

export interface RunningStream {
  host: StreamHost;
  engine: StreamEngine;
  loop: ScoringLoop;
  /** The metrics listener's URL, or null. */
  url: string | null;
  /** Resolves when the loop has ended (after stop(), or when the engine stopped delivering). */
  done: Promise<void>;
  stop(): Promise<void>;
}

export async function startStream(o: StreamOptions): Promise<RunningStream> {
  const host = await startStreamHost(o);
  const { repository, predictor, metrics } = host.context;
  let engine: StreamEngine;
  try {
    // The model must be able to serve now: resolve throws (not found, unavailable) otherwise.
    repository.resolve(o.model, o.version);
    engine = await o.openEngine();
  } catch (err) {
    await host.close();
    throw err;
  }
  const router = new VersionRouter({
    repository,
    model: o.model,
    version: o.version,
    stickyField: o.stickyField,
    rng: o.rng,
    logger: o.logger,
  });
  const batch = o.batch ?? 256;
  const loop: ScoringLoop = new ScoringLoop({
    engine,
    scorer: new ModelScorer({
      predictor,
      router,
      maxRowBytes: o.maxRowBytes ?? 1024 * 1024,
      traceIds: host.monitoring.predictionLog !== null,
    }),
    outputSubject: o.outputSubject,
    deadLetterSubject: o.deadLetterSubject,
    batch,
    maxInflight: o.maxInflight ?? 4 * batch,
    maxDeliver: o.maxDeliver ?? 5,
    logger: o.logger,
    events: new StreamMetrics({
      registry: metrics.registry,
      model: o.model,
      lag: () => engine.lag(),
      inflight: () => loop.inflight,
    }),
  });
  const done = loop.run();
  let stopping: Promise<void> | null = null;
  return {
    host,
    engine,
    loop,
    url: host.url,
    done,
    stop() {
      stopping ??= (async () => {
        loop.stop();
        await done;
        await engine.close();
        await host.close();
      })();
      return stopping;
    },
  };
}
