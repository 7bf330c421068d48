// The scoring loop of `grove stream`, independent of the engine (stream/engine/stream-engine.ts):
// take a batch, let the scorer turn every message into an outcome (a result, a dead letter, or a
// retry), publish, and acknowledge each input only after the engine confirmed its result (or its
// dead letter) was stored. So a process killed at any point loses nothing: what it had not
// acknowledged is delivered again and its result re-published under the same id, which the
// engine's duplicate window drops (docs/streaming.md, Delivery).
// Flow control: at most `maxInflight` results wait for their store confirmation; above that the
// loop stops asking the engine for messages, so a slow output side slows the pulls instead of
// growing memory. Nothing a message holds can stop the loop: a scorer that throws turns into
// retries, a message delivered more than `maxDeliver` times is dead-lettered unscored (it may be
// what crashed the previous consumer), and a retry that keeps failing ends as a dead letter.
import type { Logger } from 'pino';
import { GroveError, toGroveError } from '../shared/errors/grove-error.js';
import type { StreamEngine, StreamMessage } from './engine/stream-engine.js';

export type Outcome =
  | { kind: 'output'; id: string; body: string; version: string }
  | { kind: 'dead'; id: string | null; error: GroveError }
  | { kind: 'retry'; error: GroveError };

export interface Scorer {
  /**
   * Sets out[i] for every batch[i]. A bad message is a 'dead' outcome, never a throw; a failure
   * that is not the message's (no model version ready) is a 'retry'. May finish asynchronously.
   */
  score(batch: readonly StreamMessage[], out: Outcome[]): void | Promise<void>;
}

/** What the loop reports (stream/stream-metrics.ts counts it). */
export interface LoopEvents {
  received(messages: number): void;
  published(version: string, duplicate: boolean): void;
  deadLettered(code: string): void;
  retried(code: string): void;
  publishFailed(): void;
  /** A batch is settled: every message published, dead-lettered or handed back for retry. */
  batchDone(messages: number, seconds: number): void;
}

export interface ScoringLoopOptions {
  engine: StreamEngine;
  scorer: Scorer;
  outputSubject: string;
  deadLetterSubject: string;
  /** Messages per batch (the most the engine hands over at once). */
  batch: number;
  /** Results waiting for the engine's store confirmation at most; above it the loop pauses. */
  maxInflight: number;
  /** Deliveries a message may have; more and it is dead-lettered (GROVE_ERR_STREAM_REDELIVERED). */
  maxDeliver: number;
  logger: Logger;
  events?: LoopEvents;
  /** Delay before a retried message comes back, by the deliveries it had. */
  retryDelayMs?: (deliveries: number) => number;
}

const NO_EVENTS: LoopEvents = {
  received() {},
  published() {},
  deadLettered() {},
  retried() {},
  publishFailed() {},
  batchDone() {},
};

export function backoffMs(deliveries: number): number {
  return Math.min(1000 * 2 ** Math.max(0, deliveries - 1), 30_000);
}

export class ScoringLoop {
  /** Results published and not yet confirmed (dead letters included). */
  inflight = 0;
  private readonly events: LoopEvents;
  private readonly retryDelay: (deliveries: number) => number;
  private waiters: Array<() => void> = [];
  private lastPublishWarning = 0;

  constructor(private readonly o: ScoringLoopOptions) {
    this.events = o.events ?? NO_EVENTS;
    this.retryDelay = o.retryDelayMs ?? backoffMs;
  }

  /** Runs until the engine stops delivering (stop()), then waits for every result in flight. */
  async run(): Promise<void> {
    const { engine, batch, maxInflight } = this.o;
    for (;;) {
      while (this.inflight >= maxInflight) await this.change();
      const msgs = await engine.next(batch);
      if (msgs === null) break;
      if (msgs.length > 0) await this.handle(msgs);
    }
    while (this.inflight > 0) await this.change();
  }

  /** Graceful drain: no more pulls; run() resolves once what was received is settled. */
  stop(): void {
    this.o.engine.stop();
  }

  private change(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private changed(): void {
    const w = this.waiters;
    if (w.length === 0) return;
    this.waiters = [];
    for (const f of w) f();
  }

  private async handle(batch: StreamMessage[]): Promise<void> {
    const t0 = performance.now();
    const n = batch.length;
    this.events.received(n);
    const out: Outcome[] = new Array(n);
    let scored = batch;
    let index: number[] | null = null;
    for (let i = 0; i < n; i++) {
      if (batch[i]!.deliveries <= this.o.maxDeliver) continue;
      // Delivered too often without an ack: it may be what killed the consumers before this one.
      out[i] = {
        kind: 'dead',
        id: batch[i]!.headerId,
        error: new GroveError(
          `message delivered ${batch[i]!.deliveries} times without being acknowledged (--max-deliver ${this.o.maxDeliver})`,
          'GROVE_ERR_STREAM_REDELIVERED',
        ),
      };
      index ??= [];
    }
    if (index !== null) {
      scored = [];
      for (let i = 0; i < n; i++) {
        if (out[i] === undefined) {
          index.push(i);
          scored.push(batch[i]!);
        }
      }
    }
    if (scored.length > 0) {
      const part: Outcome[] = index === null ? out : new Array(scored.length);
      try {
        const r = this.o.scorer.score(scored, part);
        if (r !== undefined) await r;
      } catch (err) {
        this.o.logger.error(
          { event: 'stream_score_failed', err: (err as Error)?.stack ?? String(err) },
          'scoring a batch failed; its messages will be retried',
        );
      }
      if (index !== null) for (let j = 0; j < index.length; j++) out[index[j]!] = part[j]!;
    }
    let pending = n;
    const settled = () => {
      if (--pending === 0) this.events.batchDone(n, (performance.now() - t0) / 1000);
    };
    for (let i = 0; i < n; i++) {
      const o = out[i] ?? { kind: 'retry', error: new GroveError('internal error', 'GROVE_ERR_INTERNAL') };
      this.settle(batch[i]!, o, settled);
    }
  }

  private settle(m: StreamMessage, o: Outcome, settled: () => void): void {
    if (o.kind === 'output') {
      this.publish(m, this.o.outputSubject, o.id, o.body, settled, (duplicate) =>
        this.events.published(o.version, duplicate),
      );
    } else if (o.kind === 'dead') {
      this.deadLetter(m, o.id, o.error, settled);
    } else if (m.deliveries >= this.o.maxDeliver) {
      this.deadLetter(m, m.headerId, o.error, settled);
    } else {
      this.o.engine.retry(m, this.retryDelay(m.deliveries));
      this.events.retried(o.error.code);
      settled();
    }
  }

  private deadLetter(m: StreamMessage, id: string | null, error: GroveError, settled: () => void): void {
    const e = toGroveError(error);
    const body = JSON.stringify({
      id,
      code: e.code,
      error: e.message,
      source: m.source,
      position: m.position,
      deliveries: m.deliveries,
    });
    // Keyed by the input's position, so a redelivered bad message yields one dead letter.
    this.publish(m, this.o.deadLetterSubject, `dead:${m.position}`, body, settled, () =>
      this.events.deadLettered(e.code),
    );
  }

  private publish(
    m: StreamMessage,
    subject: string,
    id: string,
    body: string,
    settled: () => void,
    confirmed: (duplicate: boolean) => void,
  ): void {
    this.inflight++;
    this.o.engine.publish({ subject, id, body }).then(
      (r) => {
        this.o.engine.ack(m);
        confirmed(r.duplicate);
        this.done(settled);
      },
      (err: unknown) => {
        // Not stored: the input stays unacknowledged and comes back.
        this.o.engine.retry(m, this.retryDelay(m.deliveries));
        this.events.publishFailed();
        const now = performance.now();
        if (now - this.lastPublishWarning > 5000) {
          this.lastPublishWarning = now;
          this.o.logger.warn(
            { event: 'stream_publish_failed', subject, err: (err as Error)?.message ?? String(err) },
            'publishing a result failed; the input will be delivered again',
          );
        }
        this.done(settled);
      },
    );
  }

  private done(settled: () => void): void {
    this.inflight--;
    settled();
    this.changed();
  }
}
