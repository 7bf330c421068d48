// Entry of a local worker process under `grove serve` (node:cluster): runs startWorker on its own
// port (exclusive listen, port 0: cluster would otherwise share one handle through the primary)
// and reports its URL and live versions to the primary over IPC. Stops gracefully on SIGTERM or
// when the primary goes away.
import cluster from 'node:cluster';
import { pino } from 'pino';
import { lowerOwnPriority } from '../shared/process-priority.js';
import type { WorkerIpcMessage } from '../shared/protocol/worker-ipc.js';
import { monitoringFromEnv } from '../worker/monitor/monitor-cli-options.js';
import { startWorker } from '../worker/start-worker.js';
import { repositoryFromEnv } from './load-options.js';

async function main(): Promise<void> {
  const modelsDir = process.env.GROVE_MODELS_DIR;
  if (!cluster.isWorker || !modelsDir) {
    process.stderr.write('cluster-worker-main runs only as a grove serve worker\n');
    process.exit(2);
  }
  // Before the predict threads start, so they inherit it (process-priority.ts).
  lowerOwnPriority(Number(process.env.GROVE_WORKER_NICE ?? 0));
  const logger = pino(
    { name: 'grove-worker', level: process.env.GROVE_LOG_LEVEL ?? 'info' },
    pino.destination(2),
  );
  const threads = process.env.GROVE_WORKER_THREADS ? Number(process.env.GROVE_WORKER_THREADS) : undefined;
  const worker = await startWorker({
    modelsDir,
    port: 0,
    host: '127.0.0.1',
    exclusive: true,
    logger,
    poolThreads: threads,
    ...repositoryFromEnv(process.env),
    monitoring: monitoringFromEnv(process.env),
    // The repository API, for the gateway's fan-out (gateway/http/repository-fan-out.ts).
    adminToken: process.env.GROVE_WORKER_ADMIN_TOKEN || undefined,
  });
  const send = (m: WorkerIpcMessage) => {
    if (process.connected) process.send!(m);
  };
  const notes = () => ({
    problems: worker.repository.problems,
    unavailable: worker.repository.unavailableReasons(),
  });
  send({ type: 'grove:listening', url: worker.url, versions: worker.liveVersions(), ...notes() });
  worker.onVersionsChange(() =>
    send({ type: 'grove:versions', versions: worker.liveVersions(), ...notes() }),
  );
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    worker.close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 15_000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
}

main().catch((err) => {
  process.stderr.write(`grove worker failed to start: ${(err as Error)?.stack ?? err}\n`);
  process.exit(1);
});
