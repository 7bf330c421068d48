// `grove stream` (docs/streaming.md): a long-running consumer that scores rows from a NATS
// JetStream subject and publishes one result per row, exactly once by id. Prints one parseable
// line on stdout once it consumes, `grove stream consuming SUBJECT -> OUTPUT (model M)`, preceded
// by `grove stream metrics on URL` when --metrics-port is given; logs are pino JSON on stderr.
// SIGTERM/SIGINT drain gracefully: no more pulls, every received row settled and acknowledged,
// then exit 0. Exit 1 if the engine stops delivering on its own, 2 on bad flags or a failed start.
import { pino } from 'pino';
import { GroveError } from '../../shared/errors/grove-error.js';
import { openNatsEngine } from '../../stream/nats/nats-engine.js';
import { checkName, checkSubjects, streamNameFor } from '../../stream/nats/nats-subjects.js';
import { startStream } from '../../stream/start-stream.js';
import {
  MONITOR_CLI_OPTIONS,
  MONITOR_CLI_USAGE,
  monitoringFromArgs,
} from '../../worker/monitor/monitor-cli-options.js';
import { parseCommandArgs } from '../command-args.js';

const USAGE = `usage: grove stream --nats URL --models DIR --model NAME --subject S --output-subject S [options]

  --nats URL              NATS server(s), comma-separated (JetStream enabled); credentials from
                          GROVE_NATS_TOKEN or GROVE_NATS_USER / GROVE_NATS_PASSWORD
  --models DIR            model repository (as grove worker)
  --model NAME            the model that scores the rows
  --version V             score every row with this version (default: config.json's split, else latest)
  --sticky-field F        row field (or message header) a sticky split hashes (default: the split's sticky)
  --subject S             input subject: one row per message, JSON array or object of named features
  --output-subject S      one result per row: {"id", "model", "model_version", "prediction"}
  --dead-letter-subject S rows that cannot be scored, with their error code (default <output>.errors)
  --durable NAME          durable pull consumer, shared by every process that uses it (default grove-<model>)
  --stream NAME           name of the input stream if grove creates it (default grove-<subject>)
  --output-stream NAME    name of the output stream if grove creates it (default grove-<output subject>)
  --dead-letter-stream NAME  likewise for the dead-letter subject
  --batch N               messages per pull and per predict call (default 256)
  --max-inflight N        results awaiting JetStream's PubAck before pulls pause (default 4 x batch)
  --ack-wait MS           a new consumer's ack wait: unacknowledged rows come back after it (default 30000)
  --max-ack-pending N     a new consumer's max_ack_pending, across processes (default 20000)
  --max-deliver N         deliveries before a row is dead-lettered (default 5)
  --max-row-bytes B       larger message bodies are dead-lettered unread (default 1048576)
  --dedup-window MS       duplicate window of streams grove creates (default 120000)
  --metrics-port P        serve /metrics, health and monitor routes on this port (0 = any free port)
  --metrics-host H        address for --metrics-port (default 127.0.0.1)
  --threads N             pool threads for batches above --inline-rows (default: cores - 1, at least 1)
  --inline-rows N         batches with more rows than this are predicted on the pool (default 256)
  --rescan MS             periodic repository rescan (default 2000)
  --log-level LEVEL       pino level (default info)
${MONITOR_CLI_USAGE}`;

function int(v: unknown, name: string, dflt: number, min = 0): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    'stream',
    argv,
    {
      nats: { type: 'string' },
      models: { type: 'string' },
      model: { type: 'string' },
      version: { type: 'string' },
      'sticky-field': { type: 'string' },
      subject: { type: 'string' },
      'output-subject': { type: 'string' },
      'dead-letter-subject': { type: 'string' },
      durable: { type: 'string' },
      stream: { type: 'string' },
      'output-stream': { type: 'string' },
      'dead-letter-stream': { type: 'string' },
      batch: { type: 'string' },
      'max-inflight': { type: 'string' },
      'ack-wait': { type: 'string' },
      'max-ack-pending': { type: 'string' },
      'max-deliver': { type: 'string' },
      'max-row-bytes': { type: 'string' },
      'dedup-window': { type: 'string' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
      threads: { type: 'string' },
      'inline-rows': { type: 'string' },
      rescan: { type: 'string' },
      'log-level': { type: 'string' },
      ...MONITOR_CLI_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  if (typeof parsed === 'number') return parsed;
  const v = parsed;
  for (const flag of ['nats', 'models', 'model', 'subject', 'output-subject'] as const) {
    if (typeof v[flag] !== 'string') {
      process.stderr.write(`grove stream: --${flag} is required\n\n${USAGE}`);
      return 2;
    }
  }
  const logger = pino({ name: 'grove-stream', level: v['log-level'] ?? 'info' }, pino.destination(2));
  const model = v.model!;
  const output = v['output-subject']!;
  let opts: Parameters<typeof startStream>[0];
  try {
    const subjects = checkSubjects({
      input: v.subject!,
      output,
      deadLetter: v['dead-letter-subject'] ?? `${output}.errors`,
    });
    const batch = int(v.batch, 'batch', 256, 1);
    if (batch > 10_000) throw new Error('--batch must be at most 10000');
    const durable = checkName(v.durable ?? `grove-${model.replace(/[^A-Za-z0-9_-]/g, '_')}`, '--durable');
    const ackWaitMs = int(v['ack-wait'], 'ack-wait', 30_000, 1000);
    const nats = {
      url: v.nats!,
      subject: subjects.input,
      outputSubject: subjects.output,
      deadLetterSubject: subjects.deadLetter,
      durable,
      streamName: checkName(v.stream ?? streamNameFor(subjects.input), '--stream'),
      outputStreamName: checkName(v['output-stream'] ?? streamNameFor(subjects.output), '--output-stream'),
      deadLetterStreamName: checkName(
        v['dead-letter-stream'] ?? streamNameFor(subjects.deadLetter),
        '--dead-letter-stream',
      ),
      ackWaitMs,
      maxAckPending: int(v['max-ack-pending'], 'max-ack-pending', 20_000, 1),
      pullBatch: batch,
      dedupWindowMs: int(v['dedup-window'], 'dedup-window', 120_000, 1000),
      auth: {
        ...(process.env.GROVE_NATS_TOKEN ? { token: process.env.GROVE_NATS_TOKEN } : {}),
        ...(process.env.GROVE_NATS_USER
          ? { user: process.env.GROVE_NATS_USER, pass: process.env.GROVE_NATS_PASSWORD ?? '' }
          : {}),
      },
      logger,
    };
    opts = {
      openEngine: () => openNatsEngine(nats),
      modelsDir: v.models!,
      model,
      version: v.version,
      stickyField: v['sticky-field'],
      outputSubject: subjects.output,
      deadLetterSubject: subjects.deadLetter,
      batch,
      maxInflight: int(v['max-inflight'], 'max-inflight', 4 * batch, 1),
      maxDeliver: int(v['max-deliver'], 'max-deliver', 5, 1),
      maxRowBytes: int(v['max-row-bytes'], 'max-row-bytes', 1024 * 1024, 1),
      metricsPort: v['metrics-port'] === undefined ? null : int(v['metrics-port'], 'metrics-port', 0),
      metricsHost: v['metrics-host'] ?? '127.0.0.1',
      poolThreads: v.threads === undefined ? undefined : int(v.threads, 'threads', 1, 1),
      inlineRowThreshold: int(v['inline-rows'], 'inline-rows', 256),
      rescanIntervalMs: int(v.rescan, 'rescan', 2000, 1),
      monitoring: monitoringFromArgs(v),
      logger,
    };
  } catch (err) {
    process.stderr.write(`grove stream: ${(err as Error).message}\n`);
    return 2;
  }

  let running: Awaited<ReturnType<typeof startStream>>;
  try {
    running = await startStream(opts);
  } catch (err) {
    const e = err as Error;
    process.stderr.write(`grove stream: ${e.message}${err instanceof GroveError ? ` (${err.code})` : ''}\n`);
    logger.flush();
    return 2;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ event: 'shutdown', signal }, 'draining: settling received rows, then stopping');
      void running.stop().then(
        () => {
          logger.info({ event: 'stopped' }, 'stream consumer stopped');
          logger.flush();
          resolve(0);
        },
        (err: unknown) => {
          logger.error({ event: 'stop_failed', err: String(err) }, 'stream consumer stop failed');
          logger.flush();
          resolve(1);
        },
      );
    };
    // `on`, not `once`: a signal that comes while draining must not fall back to the default
    // action, which kills the process mid-drain with rows received and not yet settled.
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    // The engine ended by itself (the consumer was deleted, the connection closed for good).
    void running.done.then(() => {
      if (stopping) return;
      stopping = true;
      logger.error({ event: 'engine_ended' }, 'the stream engine stopped delivering; exiting');
      void running.stop().finally(() => {
        logger.flush();
        resolve(1);
      });
    });
    // Announced only now that the signals are handled: a supervisor (or a test) that sends SIGTERM
    // as soon as it reads this line must get a drain, not the default action's kill.
    if (running.url !== null) process.stdout.write(`grove stream metrics on ${running.url}\n`);
    process.stdout.write(`grove stream consuming ${v.subject} -> ${output} (model ${model})\n`);
    logger.info(
      {
        event: 'consuming',
        subject: v.subject,
        output,
        deadLetter: opts.deadLetterSubject,
        model,
        metrics: running.url,
      },
      'stream consumer started',
    );
  });
}
