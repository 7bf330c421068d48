// An in-process StreamEngine for unit tests of the scoring loop and the scorer: messages pushed by
// the test, publishes recorded (with the duplicate window's id check), acks and retries recorded.
// A test can hold publishes (`holdPublishes`) to watch back-pressure, or fail them. The real
// engine is exercised against a real nats-server in test/integration/stream-*.test.ts.
import type { OutgoingMessage, PublishResult, StreamEngine, StreamMessage } from '../engine/stream-engine.js';

export class MemoryMessage implements StreamMessage {
  constructor(
    readonly body: Uint8Array,
    readonly headerId: string | null,
    readonly deliveries: number,
    readonly position: string,
    private readonly headers: Record<string, string>,
  ) {}
  readonly source = 'rows.test';
  header(name: string): string | null {
    return this.headers[name] ?? null;
  }
}

export interface PushOptions {
  id?: string;
  deliveries?: number;
  headers?: Record<string, string>;
}

export class MemoryEngine implements StreamEngine {
  readonly published: OutgoingMessage[] = [];
  readonly acked: StreamMessage[] = [];
  readonly retried: Array<{ m: StreamMessage; delayMs: number }> = [];
  /** When set, publishes wait here until the test resolves them. */
  held: Array<{ m: OutgoingMessage; resolve: () => void; reject: (e: Error) => void }> | null = null;
  /** Every call to next() with what it was asked for. */
  readonly pulls: number[] = [];
  private readonly queue: StreamMessage[] = [];
  private readonly ids = new Set<string>();
  private seq = 0;
  private stopped = false;
  private wake: (() => void) | null = null;
  private onPublish: Array<() => void> = [];

  push(body: string | Uint8Array, o: PushOptions = {}): MemoryMessage {
    const m = new MemoryMessage(
      typeof body === 'string' ? Buffer.from(body) : body,
      o.id ?? null,
      o.deliveries ?? 1,
      `rows:${++this.seq}`,
      o.headers ?? {},
    );
    this.queue.push(m);
    this.wake?.();
    return m;
  }

  holdPublishes(): void {
    this.held = [];
  }

  /** publish() calls so far (confirmed, held or failed). */
  publishCalls = 0;

  /** Resolves once publish() has been called `n` times. */
  async publishedCount(n: number): Promise<void> {
    while (this.publishCalls < n) {
      await new Promise<void>((r) => this.onPublish.push(r));
    }
  }

  async next(max: number): Promise<StreamMessage[] | null> {
    this.pulls.push(max);
    while (this.queue.length === 0) {
      if (this.stopped) return null;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = null;
    }
    return this.queue.splice(0, max);
  }

  publish(m: OutgoingMessage): Promise<PublishResult> {
    this.publishCalls++;
    const confirm = (): PublishResult => {
      const duplicate = this.ids.has(m.id);
      this.ids.add(m.id);
      if (!duplicate) this.published.push(m);
      return { duplicate };
    };
    let p: Promise<PublishResult>;
    if (this.held !== null) {
      const held = this.held;
      p = new Promise((resolve, reject) => held.push({ m, resolve: () => resolve(confirm()), reject }));
    } else {
      p = Promise.resolve(confirm());
    }
    const cbs = this.onPublish;
    this.onPublish = [];
    for (const f of cbs) f();
    return p;
  }

  ack(m: StreamMessage): void {
    this.acked.push(m);
  }

  retry(m: StreamMessage, delayMs: number): void {
    this.retried.push({ m, delayMs });
  }

  async lag(): Promise<number | null> {
    return this.queue.length;
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  async close(): Promise<void> {}
}
