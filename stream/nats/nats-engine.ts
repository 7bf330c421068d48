// The NATS JetStream adapter of the stream engine contract (stream/engine/stream-engine.ts;
// docs/streaming.md). Input: a durable pull consumer on the input subject (several `grove stream`
// processes share it), read with the client's consume(), whose next pull is only sent when the
// reader reaches it: `next` stops reading while its buffer is full, so a paused loop stops the
// pulls (back-pressure). Output: JetStream publishes with Nats-Msg-Id = the row's id, resolved on
// the PubAck (stream/nats/jetstream-publisher.ts), so a redelivered row's result is dropped by the
// stream's duplicate window. Streams are created when missing (file storage) and used as they are
// when present; an existing durable consumer must be a pull consumer with explicit acks on the
// same subject, or start-up stops.
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerMessages,
  connect,
  DeliverPolicy,
  type JetStreamManager,
  type JsMsg,
  Match,
  type NatsConnection,
  type NatsError,
  nanos,
  StorageType,
} from 'nats';
import type { Logger } from 'pino';
import { GroveError } from '../../shared/errors/grove-error.js';
import type { OutgoingMessage, PublishResult, StreamEngine, StreamMessage } from '../engine/stream-engine.js';
import { JetStreamPublisher } from './jetstream-publisher.js';

export interface NatsEngineOptions {
  /** Server URL(s), comma-separated. */
  url: string;
  subject: string;
  outputSubject: string;
  deadLetterSubject: string;
  durable: string;
  /** Names of the streams grove creates when a subject has none. */
  streamName: string;
  outputStreamName: string;
  deadLetterStreamName: string;
  /** The consumer's ack wait (new consumers): an unacknowledged message comes back after it. */
  ackWaitMs: number;
  /** The consumer's max_ack_pending (new consumers), across every process sharing it. */
  maxAckPending: number;
  /** Messages per pull request, and the most `next` buffers. */
  pullBatch: number;
  /** Duplicate window of the streams grove creates. */
  dedupWindowMs: number;
  publishTimeoutMs?: number;
  auth?: { token?: string; user?: string; pass?: string };
  logger: Logger;
}

const CONSUMER_NOT_FOUND = 10014;

function engineError(msg: string, err: unknown): GroveError {
  return new GroveError(`${msg}: ${(err as Error)?.message ?? String(err)}`, 'GROVE_ERR_STREAM_ENGINE');
}

function configError(msg: string): GroveError {
  return new GroveError(msg, 'GROVE_ERR_STREAM_CONFIG');
}

class NatsStreamMessage implements StreamMessage {
  constructor(readonly msg: JsMsg) {}
  get body(): Uint8Array {
    return this.msg.data;
  }
  get headerId(): string | null {
    const v = this.msg.headers?.get('Nats-Msg-Id');
    return v ? v : null;
  }
  get deliveries(): number {
    return this.msg.info.deliveryCount;
  }
  get position(): string {
    const i = this.msg.info;
    return `${i.stream}:${i.streamSequence}`;
  }
  get source(): string {
    return this.msg.subject;
  }
  header(name: string): string | null {
    const v = this.msg.headers?.get(name, Match.IgnoreCase);
    return v ? v : null;
  }
}

/** The one stream capturing `subject`: found, or created with file storage. */
async function ensureStream(
  jsm: JetStreamManager,
  subject: string,
  name: string,
  dedupWindowMs: number,
  logger: Logger,
): Promise<string> {
  const capturing = async () => {
    const names: string[] = [];
    for await (const n of jsm.streams.names(subject)) names.push(n);
    if (names.length > 1)
      throw configError(`subject '${subject}' is captured by several streams (${names.join(', ')})`);
    return names[0];
  };
  const found = await capturing();
  if (found !== undefined) {
    logger.info({ event: 'stream_found', stream: found, subject }, 'using the existing stream as it is');
    return found;
  }
  try {
    await jsm.streams.add({
      name,
      subjects: [subject],
      storage: StorageType.File,
      duplicate_window: nanos(dedupWindowMs),
    });
    logger.info(
      { event: 'stream_created', stream: name, subject, dedupWindowMs },
      'created a stream (file storage)',
    );
    return name;
  } catch (err) {
    // Another process may have created it meanwhile.
    const again = await capturing();
    if (again !== undefined) return again;
    throw engineError(`cannot create stream '${name}' for subject '${subject}'`, err);
  }
}

/** The durable pull consumer: created when missing, checked when present. */
async function ensureConsumer(jsm: JetStreamManager, stream: string, o: NatsEngineOptions): Promise<void> {
  try {
    const ci = await jsm.consumers.info(stream, o.durable);
    const c = ci.config;
    const filter = c.filter_subject ?? '';
    if (c.deliver_subject)
      throw configError(`durable consumer '${o.durable}' is a push consumer; grove pulls`);
    if (c.ack_policy !== AckPolicy.Explicit)
      throw configError(
        `durable consumer '${o.durable}' must acknowledge explicitly (its ack_policy is ${c.ack_policy})`,
      );
    if (
      filter !== o.subject &&
      !(filter === '' && (await jsm.streams.info(stream)).config.subjects?.join() === o.subject)
    )
      throw configError(
        `durable consumer '${o.durable}' reads '${filter || '(all)'}', not --subject '${o.subject}'`,
      );
    o.logger.info(
      { event: 'consumer_found', stream, durable: o.durable, ackWaitMs: Number(c.ack_wait) / 1e6 },
      'using the existing durable consumer',
    );
    return;
  } catch (err) {
    if ((err as NatsError).api_error?.err_code !== CONSUMER_NOT_FOUND) throw err;
  }
  const config: Partial<ConsumerConfig> = {
    durable_name: o.durable,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(o.ackWaitMs),
    max_ack_pending: o.maxAckPending,
    filter_subject: o.subject,
    deliver_policy: DeliverPolicy.All,
  };
  await jsm.consumers.add(stream, config);
  o.logger.info(
    { event: 'consumer_created', stream, durable: o.durable, ackWaitMs: o.ackWaitMs },
    'created the durable pull consumer',
  );
}

export async function openNatsEngine(o: NatsEngineOptions): Promise<StreamEngine> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: o.url.split(','),
      name: 'grove-stream',
      maxReconnectAttempts: -1,
      // The client would otherwise build an Error (a stack trace) for every request, i.e. for
      // every publish awaiting its PubAck: the largest single cost per row in a profile.
      noAsyncTraces: true,
      ...(o.auth ?? {}),
    });
  } catch (err) {
    throw engineError('cannot connect to NATS', err);
  }
  try {
    const jsm = await nc.jetstreamManager();
    const input = await ensureStream(jsm, o.subject, o.streamName, o.dedupWindowMs, o.logger);
    await ensureStream(jsm, o.outputSubject, o.outputStreamName, o.dedupWindowMs, o.logger);
    await ensureStream(jsm, o.deadLetterSubject, o.deadLetterStreamName, o.dedupWindowMs, o.logger);
    await ensureConsumer(jsm, input, o);
    const js = nc.jetstream();
    const consumer = await js.consumers.get(input, o.durable);
    const messages = await consumer.consume({ max_messages: o.pullBatch });
    return new NatsEngine(nc, jsm, messages, input, o);
  } catch (err) {
    await nc.close().catch(() => {});
    if (err instanceof GroveError) throw err;
    throw engineError('JetStream refused the set-up', err);
  }
}

class NatsEngine implements StreamEngine {
  private readonly buf: NatsStreamMessage[] = [];
  private ended = false;
  private wake: (() => void) | null = null;
  private space: (() => void) | null = null;
  private lagCache: { at: number; value: Promise<number | null> } | null = null;
  private readonly publisher: JetStreamPublisher;

  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly messages: ConsumerMessages,
    private readonly stream: string,
    private readonly o: NatsEngineOptions,
  ) {
    this.publisher = new JetStreamPublisher(nc, o.publishTimeoutMs ?? 10_000);
    void this.pump();
  }

  /** Moves received messages into the buffer; pauses (so no new pull is sent) while it is full. */
  private async pump(): Promise<void> {
    try {
      for await (const m of this.messages) {
        this.buf.push(new NatsStreamMessage(m));
        this.wake?.();
        while (this.buf.length >= this.o.pullBatch && !this.ended) {
          await new Promise<void>((r) => (this.space = r));
          this.space = null;
        }
      }
    } catch (err) {
      this.o.logger.error(
        { event: 'stream_consume_failed', err: (err as Error)?.message ?? String(err) },
        'the JetStream consumer stopped delivering',
      );
    }
    this.ended = true;
    this.wake?.();
  }

  async next(max: number): Promise<StreamMessage[] | null> {
    while (this.buf.length === 0) {
      if (this.ended) return null;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = null;
    }
    // What arrived in the same read is already queued: let it reach the buffer, then take a batch.
    if (this.buf.length < max) await new Promise((r) => setImmediate(r));
    const batch = this.buf.splice(0, max);
    this.space?.();
    return batch;
  }

  publish(m: OutgoingMessage): Promise<PublishResult> {
    return this.publisher.publish(m.subject, m.id, m.body);
  }

  ack(m: StreamMessage): void {
    (m as NatsStreamMessage).msg.ack();
  }

  retry(m: StreamMessage, delayMs: number): void {
    (m as NatsStreamMessage).msg.nak(delayMs);
  }

  lag(): Promise<number | null> {
    const now = performance.now();
    if (this.lagCache === null || now - this.lagCache.at > 1000) {
      this.lagCache = {
        at: now,
        value: this.jsm.consumers.info(this.stream, this.o.durable).then(
          (ci) => ci.num_pending,
          () => null,
        ),
      };
    }
    return this.lagCache.value;
  }

  stop(): void {
    this.messages.stop();
  }

  async close(): Promise<void> {
    this.ended = true;
    this.space?.();
    this.publisher.close();
    try {
      await this.nc.drain();
    } catch {
      await this.nc.close().catch(() => {});
    }
  }
}
