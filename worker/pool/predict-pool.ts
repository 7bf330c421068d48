// The worker's thread pool (piscina): large requests and streamed batch chunks run here so the
// event loop stays free for one-row requests (model files load in their own processes,
// shared/runtime/isolation, never on these threads). Each version's SharedArrayBuffer is
// broadcast to the threads once (register); threads that start later ask for what they missed
// (hello). `atomics: 'disabled'` keeps each thread's event loop running between tasks, which the
// BroadcastChannel needs (piscina's default parks idle threads in Atomics.wait).
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { BroadcastChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { GroveError, TimeoutError, UnknownFeatureError } from '../../shared/errors/grove-error.js';
import { builtFile } from '../../shared/runtime-path.js';
import type {
  BatchResult,
  BatchTask,
  ChannelMessage,
  PoolTask,
  RegisterMessage,
  TaskFailure,
} from './pool-messages.js';

export interface PredictPoolOptions {
  threads?: number;
  /** Abort a task after this long (a 504 for the request). */
  taskTimeoutMs?: number;
  /** Priority drop of the pool threads (Linux nice); 0 keeps them equal to the event loop. */
  niceIncrement?: number;
}

function isFailure(x: unknown): x is TaskFailure {
  return typeof x === 'object' && x !== null && (x as TaskFailure).failed === true;
}

function rethrow(f: TaskFailure): never {
  if (f.code === 'GROVE_ERR_UNKNOWN_FEATURE' && f.features)
    throw new UnknownFeatureError(f.features, f.expected ?? undefined);
  throw GroveError.fromWire(f.message, f.code);
}

export class PredictPool {
  private readonly piscina: Piscina<PoolTask, unknown>;
  private readonly channel: BroadcastChannel;
  private readonly registry = new Map<string, RegisterMessage>();
  private readonly taskTimeoutMs: number;
  readonly threads: number;

  constructor(opts: PredictPoolOptions = {}) {
    this.threads = Math.max(1, opts.threads ?? Math.max(1, availableParallelism() - 1));
    this.taskTimeoutMs = opts.taskTimeoutMs ?? 30_000;
    const name = `grove-models-${process.pid}-${randomBytes(4).toString('hex')}`;
    this.channel = new BroadcastChannel(name);
    this.channel.onmessage = (ev: unknown) => {
      const m = (ev as { data: ChannelMessage }).data;
      if (m.type === 'hello') for (const r of this.registry.values()) this.channel.postMessage(r);
    };
    (this.channel as unknown as { unref?: () => void }).unref?.();
    this.piscina = new Piscina({
      filename: builtFile('worker/pool/pool-thread.js'),
      minThreads: this.threads,
      maxThreads: this.threads,
      idleTimeout: Number.POSITIVE_INFINITY,
      atomics: 'disabled',
      // Optional lower priority for the pool threads (Linux per-thread nice, via piscina's optional
      // @napi-rs/nice). Off by default: measured with bench:worker, nice 10 cut one-row throughput by a third
      // even with the pool idle, while it only modestly helped one-row p99 during batches.
      niceIncrement: opts.niceIncrement ?? 0,
      workerData: { channel: name },
    });
  }

  register(key: string, buffer: SharedArrayBuffer, featureNames: string[]): void {
    const msg: RegisterMessage = { type: 'register', key, buffer, featureNames };
    this.registry.set(key, msg);
    this.channel.postMessage(msg);
  }

  unregister(key: string): void {
    if (!this.registry.delete(key)) return;
    this.channel.postMessage({ type: 'unregister', key } satisfies ChannelMessage);
  }

  /** Predicts shared-memory rows into a shared-memory output; resolves with when the thread began (epoch ms). */
  async predict(
    key: string,
    input: Float64Array,
    rows: number,
    out: Float64Array,
    raw: boolean,
  ): Promise<number> {
    const r = await this.run({ op: 'predict', key, input, rows, out, raw });
    if (isFailure(r)) rethrow(r);
    return r as number;
  }

  async predictNamed(
    key: string,
    rows: Record<string, unknown>[],
    out: Float64Array,
    raw: boolean,
  ): Promise<number> {
    const r = await this.run({ op: 'predict-named', key, rows, out, raw });
    if (isFailure(r)) rethrow(r);
    return r as number;
  }

  /** Per-feature contributions of shared-memory rows into a shared-memory output. */
  async contributions(key: string, input: Float64Array, rows: number, out: Float64Array): Promise<void> {
    const r = await this.run({ op: 'contributions', key, input, rows, out });
    if (isFailure(r)) rethrow(r);
  }

  async batch(task: BatchTask): Promise<BatchResult> {
    // CSV bytes are moved to the thread rather than copied (the caller lets go of them).
    const r = await this.run(
      task,
      typeof task.text === 'string' ? undefined : [task.text.buffer as ArrayBuffer],
    );
    if (isFailure(r)) rethrow(r);
    return r as BatchResult;
  }

  private async run(task: PoolTask, transferList?: ArrayBuffer[]): Promise<unknown> {
    try {
      return await this.piscina.run(task, { signal: AbortSignal.timeout(this.taskTimeoutMs), transferList });
    } catch (err) {
      if ((err as Error)?.name === 'AbortError' || (err as { code?: string })?.code === 'ABORT_ERR') {
        throw new TimeoutError(`prediction took longer than ${this.taskTimeoutMs} ms`);
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    this.channel.close();
    await this.piscina.destroy();
  }
}
