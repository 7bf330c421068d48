// The contract between grove's scoring loop (stream/scoring-loop.ts) and a stream engine. The loop
// knows nothing of NATS: it asks the engine for batches of messages, publishes results keyed by
// the message id, and acknowledges an input only once its result is stored. An adapter for
// another engine implements this interface; stream/nats/nats-engine.ts is the JetStream one.
// What an adapter must guarantee (docs/streaming.md, Delivery):
//   - a message not acknowledged is delivered again (after the engine's ack wait, or sooner when
//     `retry` asks), to this process or another sharing the same consumer group;
//   - `publish` resolves only once the engine has stored the message durably, and a second
//     publish with the same id inside the engine's duplicate window is dropped (exactly-once
//     output by id);
//   - `next` gives back-pressure: an engine pulls more only while the loop keeps asking.

export interface StreamMessage {
  /** The body as received: untrusted bytes of any size the engine allowed. */
  readonly body: Uint8Array;
  /** The producer's id from the engine's own header (NATS: Nats-Msg-Id), or null. */
  readonly headerId: string | null;
  /** How many times the engine has delivered this message (1 on the first delivery). */
  readonly deliveries: number;
  /** Where the message sits in the engine (NATS: `stream:sequence`), for dead letters and logs. */
  readonly position: string;
  /** Where the message was published (NATS: its subject). */
  readonly source: string;
  /** A header of the message, or null (used for a sticky key that is not in the row). */
  header(name: string): string | null;
}

export interface OutgoingMessage {
  subject: string;
  /** The dedup key: a second message with the same id inside the duplicate window is dropped. */
  id: string;
  body: string;
}

export interface PublishResult {
  /** The engine already held a message with this id (a redelivered input's result). */
  duplicate: boolean;
}

export interface StreamEngine {
  /**
   * Resolves with 1..max messages as soon as at least one is there (what arrived together comes
   * as one batch), or null once the engine has stopped delivering (after `stop`, or closed).
   */
  next(max: number): Promise<StreamMessage[] | null>;
  /** Publishes durably; rejects when the engine did not confirm the store. */
  publish(m: OutgoingMessage): Promise<PublishResult>;
  /** The message is done: never delivered again. */
  ack(m: StreamMessage): void;
  /** Deliver the message again after about `delayMs`. */
  retry(m: StreamMessage, delayMs: number): void;
  /** Messages waiting in the engine for this consumer (not yet delivered), or null if unknown. */
  lag(): Promise<number | null>;
  /** Stop pulling: `next` gives what was already received, then null. */
  stop(): void;
  /** Sends what is pending (acknowledgements) and disconnects. Call after the loop has finished. */
  close(): Promise<void>;
}
