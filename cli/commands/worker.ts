// `grove worker --models DIR --port P [--host H] [--consul HOST:PORT --advertise-host H]`
// (DESIGN.md, CLI): one worker process over a model repository, or over one model file in single-model
// mode (`--model-name NAME --model-dir DIR`, the contract of a KServe runtime: docs/kubernetes.md).
// Prints one parseable line, `grove worker listening on http://HOST:PORT`, on stdout once it serves
// (tests and the gateway read it; with --grpc-port, `grove worker grpc listening on HOST:PORT` comes
// just before); logs are pino JSON on stderr. SIGTERM/SIGINT: stop accepting, finish in-flight
// requests, deregister from Consul, exit 0.
import { hostname } from 'node:os';
import { pino } from 'pino';
import {
  encodeVersionsMeta,
  registerWorker,
  type WorkerRegistration,
} from '../../shared/consul/worker-registration.js';
import { MODEL_NAME } from '../../worker/repository/scan-repository.js';
import { startWorker, type WorkerOptions } from '../../worker/start-worker.js';
import { parseCommandArgs } from '../command-args.js';

const USAGE = `usage: grove worker --models DIR [--port 0] [--host 127.0.0.1] [options]
       grove worker --model-name NAME --model-dir DIR [options]

  --models DIR            model repository: DIR/<model>/<version>/model.{json,ubj,txt,joblib,pkl,grove}
  --model-name NAME       single-model mode: serve the one model file of --model-dir as NAME, version 1
  --model-dir DIR         the folder holding that file (or DIR/1/ holding it), e.g. KServe's /mnt/models
  --port P                port to listen on (0 = any free port; default 8000)
  --grpc-port P           also serve the Open Inference Protocol over gRPC on P (0 = any free port)
  --host H                address to bind (default 127.0.0.1)
  --threads N             pool threads for large requests and batches (default: cores - 1, at least 1)
  --inline-rows N         requests with more rows than this run on the pool (default 256)
  --max-body BYTES        JSON request body limit (default 33554432)
  --max-rows N            rows per JSON request (default 100000)
  --timeout MS            request timeout (default 30000)
  --rescan MS             periodic repository rescan (default 2000)
  --admin-token T         turn on the model repository API (POST /v2/repository/...); every call
                          needs 'authorization: Bearer T' (default: GROVE_ADMIN_TOKEN; off without one)
  --max-upload BYTES      largest repository load request, files included (default 268435456)
  --consul HOST:PORT      register in Consul (service grove-worker) with the live versions as meta
  --advertise-host H      address to register in Consul (default: --host, or the hostname if 0.0.0.0)
  --log-level LEVEL       pino level (default info)
  --alert-webhook URL     POST monitor alarms (firing / resolved) to this URL
  --prediction-log DIR    write sampled predictions as NDJSON to DIR (size-rotated)
  --prediction-log-sample R   share of requests logged, 0..1 (default 1)
  --no-monitor            turn the drift monitor off
`;

function int(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
  return n;
}

function sampleRate(v: string | undefined): number {
  if (v === undefined) return 1;
  const r = Number(v);
  if (!(r >= 0 && r <= 1)) throw new Error('--prediction-log-sample must be a number from 0 to 1');
  return r;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    'worker',
    argv,
    {
      models: { type: 'string' },
      'model-name': { type: 'string' },
      'model-dir': { type: 'string' },
      port: { type: 'string' },
      'grpc-port': { type: 'string' },
      host: { type: 'string' },
      threads: { type: 'string' },
      'inline-rows': { type: 'string' },
      'max-body': { type: 'string' },
      'max-rows': { type: 'string' },
      timeout: { type: 'string' },
      rescan: { type: 'string' },
      'admin-token': { type: 'string' },
      'max-upload': { type: 'string' },
      consul: { type: 'string' },
      'advertise-host': { type: 'string' },
      'log-level': { type: 'string' },
      'alert-webhook': { type: 'string' },
      'prediction-log': { type: 'string' },
      'prediction-log-sample': { type: 'string' },
      'no-monitor': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  if (typeof parsed === 'number') return parsed;
  const values: Record<string, string | boolean | undefined> = parsed;
  const modelName = values['model-name'] as string | undefined;
  const modelDir = values['model-dir'] as string | undefined;
  const single = modelName !== undefined || modelDir !== undefined;
  if (
    single
      ? modelName === undefined || modelDir === undefined || values.models !== undefined
      : typeof values.models !== 'string'
  ) {
    process.stderr.write(
      `grove worker: give --models DIR, or --model-name NAME with --model-dir DIR\n\n${USAGE}`,
    );
    return 2;
  }
  if (modelName !== undefined && !MODEL_NAME.test(modelName)) {
    process.stderr.write(
      `grove worker: --model-name must be 1-128 letters, digits, '_', '.' or '-', starting with a letter or digit\n`,
    );
    return 2;
  }
  const logger = pino(
    { name: 'grove-worker', level: (values['log-level'] as string) ?? 'info' },
    pino.destination(2),
  );
  let opts: WorkerOptions;
  try {
    opts = {
      modelsDir: single ? modelDir! : (values.models as string),
      singleModel: modelName,
      port: int(values.port as string | undefined, 'port', 8000),
      grpcPort:
        values['grpc-port'] === undefined ? undefined : int(values['grpc-port'] as string, 'grpc-port', 0),
      host: (values.host as string | undefined) ?? '127.0.0.1',
      poolThreads: values.threads === undefined ? undefined : int(values.threads as string, 'threads', 1),
      inlineRowThreshold: int(values['inline-rows'] as string | undefined, 'inline-rows', 256),
      maxBodyBytes: int(values['max-body'] as string | undefined, 'max-body', 32 * 1024 * 1024),
      maxRows: int(values['max-rows'] as string | undefined, 'max-rows', 100_000),
      requestTimeoutMs: int(values.timeout as string | undefined, 'timeout', 30_000),
      rescanIntervalMs: int(values.rescan as string | undefined, 'rescan', 2000),
      adminToken: (values['admin-token'] as string | undefined) || process.env.GROVE_ADMIN_TOKEN || undefined,
      maxUploadBytes: int(values['max-upload'] as string | undefined, 'max-upload', 256 * 1024 * 1024),
      logger,
      monitoring: {
        monitor: values['no-monitor'] !== true,
        alertWebhook: (values['alert-webhook'] as string | undefined) ?? null,
        predictionLog: (values['prediction-log'] as string | undefined) ?? null,
        predictionLogSample: sampleRate(values['prediction-log-sample'] as string | undefined),
      },
    };
  } catch (err) {
    process.stderr.write(`grove worker: ${(err as Error).message}\n`);
    return 2;
  }
  const worker = await startWorker(opts);
  // The gRPC line first: a reader that waits for the HTTP line then has both.
  if (worker.grpcAddress !== null)
    process.stdout.write(`grove worker grpc listening on ${worker.grpcAddress}\n`);
  process.stdout.write(`grove worker listening on ${worker.url}\n`);
  logger.info({ event: 'listening', url: worker.url, models: worker.liveVersions() }, 'worker listening');

  let registration: WorkerRegistration | null = null;
  if (typeof values.consul === 'string') {
    const host =
      (values['advertise-host'] as string | undefined) ??
      (opts.host === '0.0.0.0' || opts.host === '::' || !opts.host ? hostname() : opts.host);
    registration = await registerWorker({
      consul: values.consul,
      id: `grove-worker-${host}-${worker.port}`,
      address: host,
      port: worker.port,
      meta: encodeVersionsMeta(worker.liveVersions()),
    });
    worker.onVersionsChange(() => {
      registration
        ?.update(encodeVersionsMeta(worker.liveVersions()))
        .catch((err: Error) =>
          logger.warn({ event: 'consul_update_failed', err: err.message }, 'consul meta update failed'),
        );
    });
    logger.info(
      { event: 'consul_registered', consul: values.consul, address: host, port: worker.port },
      'registered in consul',
    );
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ event: 'shutdown', signal }, 'shutting down: finishing in-flight requests');
      void (async () => {
        try {
          await registration?.deregister();
        } catch (err) {
          logger.warn(
            { event: 'consul_deregister_failed', err: (err as Error).message },
            'consul deregister failed',
          );
        }
        await worker.close();
        logger.info({ event: 'stopped' }, 'worker stopped');
        logger.flush();
        resolve(0);
      })();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
