// The benchmark's peer (`npm run bench:stream`): the engine's own limit on this machine. A process
// with grove stream's exact pull, publish and ack pattern (the same NATS adapter and scoring loop:
// durable pull consumer, batches, publish with Nats-Msg-Id, ack after the PubAck) whose "scorer"
// answers every row with a constant result, without reading it or running a model. Prints
// `pass-through consuming` once it pulls; SIGTERM drains like grove stream.
//   node dist/stream/bench/pass-through-main.js NATS_URL SUBJECT OUTPUT_SUBJECT BATCH
import { pino } from 'pino';
import { GroveError } from '../../shared/errors/grove-error.js';
import type { StreamMessage } from '../engine/stream-engine.js';
import { openNatsEngine } from '../nats/nats-engine.js';
import { streamNameFor } from '../nats/nats-subjects.js';
import { type Outcome, type Scorer, ScoringLoop } from '../scoring-loop.js';

// A constant result of the shape and size of grove's, so both contenders publish the same bytes:
// the only difference left is reading the row and the model.
const passThrough: Scorer = {
  score(batch: readonly StreamMessage[], out: Outcome[]) {
    for (let i = 0; i < batch.length; i++) {
      const id = batch[i]!.headerId;
      out[i] =
        id === null
          ? { kind: 'dead', id: null, error: new GroveError('no id', 'GROVE_ERR_STREAM_NO_ID') }
          : {
              kind: 'output',
              id,
              body: `{"id":${JSON.stringify(id)},"model":"churn","model_version":"1","prediction":0.5}`,
              version: '1',
            };
    }
  },
};

async function main(): Promise<void> {
  const [url, subject, output, batchArg] = process.argv.slice(2);
  if (!url || !subject || !output)
    throw new Error('usage: pass-through-main NATS_URL SUBJECT OUTPUT [BATCH]');
  const batch = Number(batchArg ?? 256);
  const logger = pino({ level: 'warn' }, pino.destination(2));
  const deadLetter = `${output}.errors`;
  const engine = await openNatsEngine({
    url,
    subject,
    outputSubject: output,
    deadLetterSubject: deadLetter,
    durable: 'pass-through',
    streamName: streamNameFor(subject),
    outputStreamName: streamNameFor(output),
    deadLetterStreamName: streamNameFor(deadLetter),
    ackWaitMs: 30_000,
    maxAckPending: 20_000,
    pullBatch: batch,
    dedupWindowMs: 120_000,
    logger,
  });
  const loop = new ScoringLoop({
    engine,
    scorer: passThrough,
    outputSubject: output,
    deadLetterSubject: deadLetter,
    batch,
    maxInflight: 4 * batch,
    maxDeliver: 5,
    logger,
  });
  const done = loop.run();
  process.stdout.write('pass-through consuming\n');
  process.once('SIGTERM', () => loop.stop());
  await done;
  await engine.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`pass-through: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 1;
});
