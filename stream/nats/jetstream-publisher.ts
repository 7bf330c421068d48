// JetStream publishes awaiting their PubAck, without the client's generic request machinery. The
// client's js.publish makes each publish a request with its own timer, deferred, id and an Error
// object built (stack trace and all) to cancel the already-answered request: in a profile of grove
// stream that was most of the CPU per row. Here every publish carries a reply subject under one
// inbox this publisher subscribes to once, a Map finds the waiting publish by its number, and one
// sweep timer fails those older than the timeout. The wire is the same as js.publish's: the
// message with its Nats-Msg-Id header, a PubAck (`{"stream":..,"seq":..,"duplicate":true}` or
// `{"error":{..}}`) or a 503 status (no stream captures the subject) on the reply subject.
import { createInbox, headers, type Msg, type NatsConnection, type Subscription } from 'nats';
import type { PublishResult } from '../engine/stream-engine.js';

interface Waiting {
  resolve(r: PublishResult): void;
  reject(e: Error): void;
  at: number;
}

const NOT_DUPLICATE: PublishResult = Object.freeze({ duplicate: false });
const DUPLICATE: PublishResult = Object.freeze({ duplicate: true });

export class JetStreamPublisher {
  private readonly inbox: string;
  private readonly prefixLength: number;
  private readonly waiting = new Map<number, Waiting>();
  private readonly sub: Subscription;
  private readonly sweep: NodeJS.Timeout;
  private seq = 0;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
  ) {
    this.inbox = createInbox();
    this.prefixLength = this.inbox.length + 1;
    this.sub = nc.subscribe(`${this.inbox}.*`, { callback: (_err, m) => this.onReply(m) });
    this.sweep = setInterval(() => this.expire(), Math.max(50, Math.min(1000, timeoutMs / 4)));
    this.sweep.unref();
  }

  /** Resolves on the stream's PubAck; rejects on an error answer, no stream, or no answer in time. */
  publish(subject: string, id: string, body: string): Promise<PublishResult> {
    if (this.closed) return Promise.reject(new Error('publisher closed'));
    const h = headers();
    h.set('Nats-Msg-Id', id);
    const n = ++this.seq;
    return new Promise((resolve, reject) => {
      this.waiting.set(n, { resolve, reject, at: performance.now() });
      try {
        this.nc.publish(subject, body, { reply: `${this.inbox}.${n}`, headers: h });
      } catch (err) {
        this.waiting.delete(n);
        reject(err as Error);
      }
    });
  }

  private onReply(m: Msg): void {
    const n = Number(m.subject.slice(this.prefixLength));
    const w = this.waiting.get(n);
    if (w === undefined) return; // answered after its timeout
    this.waiting.delete(n);
    const h = m.headers;
    if (h?.hasError) {
      w.reject(new Error(h.code === 503 ? 'no stream captures the subject' : `${h.code} ${h.description}`));
      return;
    }
    const d = m.data;
    const text = Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('utf8');
    if (text.includes('"error"')) {
      let description = text;
      try {
        description = (JSON.parse(text) as { error?: { description?: string } }).error?.description ?? text;
      } catch {
        // keep the raw answer
      }
      w.reject(new Error(`JetStream refused the publish: ${description}`));
      return;
    }
    w.resolve(text.includes('"duplicate":true') ? DUPLICATE : NOT_DUPLICATE);
  }

  /** Fails the publishes waiting longer than the timeout (the Map is in publish order). */
  private expire(): void {
    const limit = performance.now() - this.timeoutMs;
    for (const [n, w] of this.waiting) {
      if (w.at > limit) break;
      this.waiting.delete(n);
      w.reject(new Error(`no PubAck within ${this.timeoutMs} ms`));
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweep);
    this.sub.unsubscribe();
    for (const w of this.waiting.values()) w.reject(new Error('publisher closed'));
    this.waiting.clear();
  }
}
