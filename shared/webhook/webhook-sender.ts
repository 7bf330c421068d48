// Sends JSON notices to one webhook URL off the request path (a worker's monitor alarms,
// `--alert-webhook`; a gateway's ended jobs, `--job-webhook` / `?notify=`): a bounded FIFO queue (the
// oldest notice is dropped when full, and counted), one POST at a time, each with a timeout and
// bounded retries with exponential backoff plus jitter (as Prometheus Alertmanager's webhook
// notifier retries). A slow or dead receiver only delays other notices, never a prediction.
// Time and randomness are injected for tests.

export interface WebhookSenderOptions {
  url: string;
  /** Notices kept waiting at most (default 1000). */
  maxQueue?: number;
  /** Attempts per notice, the first included (default 5). */
  maxAttempts?: number;
  /** First retry delay in ms, doubled each time (default 250), capped at maxDelayMs (default 10000). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per-attempt timeout in ms (default 5000). */
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  onDrop?: (reason: 'queue_full' | 'retries_exhausted') => void;
  onError?: (err: unknown, attempt: number) => void;
  onSent?: () => void;
}

const defaultSleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref();
  });

export class WebhookSender {
  private readonly queue: string[] = [];
  private running = false;
  private closing = false;
  private idle: Promise<void> = Promise.resolve();
  private readonly o: Required<Omit<WebhookSenderOptions, 'onDrop' | 'onError' | 'onSent'>> &
    Pick<WebhookSenderOptions, 'onDrop' | 'onError' | 'onSent'>;
  sent = 0;
  dropped = 0;

  constructor(options: WebhookSenderOptions) {
    this.o = {
      maxQueue: 1000,
      maxAttempts: 5,
      baseDelayMs: 250,
      maxDelayMs: 10_000,
      timeoutMs: 5000,
      fetchImpl: fetch,
      sleep: defaultSleep,
      random: Math.random,
      ...options,
    };
  }

  /** Queues one JSON body; returns at once. */
  send(body: unknown): void {
    if (this.queue.length >= this.o.maxQueue) {
      this.queue.shift();
      this.dropped++;
      this.o.onDrop?.('queue_full');
    }
    this.queue.push(JSON.stringify(body));
    if (!this.running) {
      this.running = true;
      this.idle = this.drain();
    }
  }

  get pending(): number {
    return this.queue.length;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const body = this.queue.shift()!;
        await this.deliver(body);
      }
    } finally {
      this.running = false;
    }
  }

  private async deliver(body: string): Promise<void> {
    for (let attempt = 1; attempt <= this.o.maxAttempts; attempt++) {
      try {
        const res = await this.o.fetchImpl(this.o.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(this.o.timeoutMs),
        });
        await res.arrayBuffer().catch(() => undefined);
        // 4xx other than 408/429 will not get better by retrying.
        if (res.ok || (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429)) {
          if (res.ok) {
            this.sent++;
            this.o.onSent?.();
          } else this.o.onError?.(new Error(`webhook answered ${res.status}`), attempt);
          return;
        }
        this.o.onError?.(new Error(`webhook answered ${res.status}`), attempt);
      } catch (err) {
        this.o.onError?.(err, attempt);
      }
      if (attempt === this.o.maxAttempts || this.closing) break;
      const delay = Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** (attempt - 1));
      await this.o.sleep(delay * (0.5 + this.o.random() / 2));
    }
    this.dropped++;
    this.o.onDrop?.('retries_exhausted');
  }

  /** Resolves when the queue is empty and nothing is in flight (retries included). */
  async drained(): Promise<void> {
    while (this.running) await this.idle;
  }

  /** Tries to deliver what is queued (no more retries after close starts), at most `waitMs`. */
  async close(waitMs = 2000): Promise<void> {
    this.closing = true;
    await Promise.race([this.idle, defaultSleep(waitMs)]);
  }
}
