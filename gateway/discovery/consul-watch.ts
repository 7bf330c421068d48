// A blocking-query watch on one Consul endpoint (the `consul` client's Watch, which follows
// developer.hashicorp.com/consul/api-docs/features/blocking: `?index=N&wait=...`, the answer's
// X-Consul-Index is the next N, an index that goes backwards starts over from 0, a zero index is
// an error, failures back off exponentially). What grove adds: it counts consecutive failures
// (`failures`, and a 'failure' event per failed call) and says when Consul answers again
// ('recovered'), so the last known state stays in force meanwhile and callers (and tests) can
// wait for either, or for 'data' after each new answer was applied;
// and a watch the client gave up on (it stops on a 400 answer) is started again after a backoff.
import { EventEmitter } from 'node:events';
import type { ConsulClient } from '../../shared/consul/consul-client.js';

type Method = (opts: Record<string, unknown>) => Promise<unknown>;

export interface ConsulWatchOptions {
  /** Longest a blocking query waits (Consul's `wait`); default 30 s. */
  waitMs?: number;
  /** Longest pause between failed calls; default 10 s. */
  maxBackoffMs?: number;
  log?: (message: string) => void;
}

export class ConsulWatch<T> extends EventEmitter {
  /** Consecutive failed calls since the last answer. */
  failures = 0;
  private watch: ReturnType<ConsulClient['watch']> | null = null;
  private restart: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly consul: ConsulClient,
    private readonly what: string,
    private readonly method: Method,
    private readonly query: Record<string, unknown>,
    private readonly onData: (data: T | undefined) => void,
    private readonly opts: ConsulWatchOptions = {},
  ) {
    super();
  }

  start(): void {
    if (this.stopped || this.watch) return;
    const waitMs = this.opts.waitMs ?? 30_000;
    const answered = (result: unknown) => {
      if (this.failures > 0) {
        this.failures = 0;
        this.opts.log?.(`consul ${this.what}: reachable again`);
        this.emit('recovered');
      }
      return result;
    };
    const watch = this.consul.watch({
      // The client calls `method` with the query plus index, wait and its own context.
      method: (o: Record<string, unknown>) => this.method(o).then(answered),
      // Consul may hold a query up to wait + wait/16; a slow or busy network gets 5 s more before
      // the call counts as failed (the client's own margin, wait/10, is thin for short waits).
      options: { ...this.query, wait: `${Math.ceil(waitMs / 1000)}s`, timeout: waitMs + waitMs / 16 + 5000 },
      backoffFactor: 50,
      backoffMax: this.opts.maxBackoffMs ?? 10_000,
    } as unknown as Parameters<ConsulClient['watch']>[0]);
    watch.on('change', (data: T | undefined) => {
      if (this.stopped) return;
      this.onData(data);
      this.emit('data');
    });
    watch.on('error', (err: Error) => {
      if (this.stopped) return;
      this.failures++;
      if (this.failures === 1)
        this.opts.log?.(`consul ${this.what}: ${err.message}; keeping the last known state, retrying`);
      this.emit('failure', this.failures);
    });
    watch.on('end', () => {
      if (this.watch !== watch) return;
      this.watch = null;
      if (this.stopped) return;
      this.restart = setTimeout(() => {
        this.restart = null;
        this.start();
      }, this.opts.maxBackoffMs ?? 10_000);
      this.restart.unref();
    });
    this.watch = watch;
  }

  stop(): void {
    this.stopped = true;
    if (this.restart) clearTimeout(this.restart);
    const w = this.watch;
    this.watch = null;
    w?.end();
  }
}
