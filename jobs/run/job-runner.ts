// Runs jobs in the gateway: keeps up to `concurrency()` chunks in flight, each claimed from the
// store under a lease (renewed while the workers score it), scored (score-chunk.ts) and committed
// with its progress. A chunk that could not be scored is given back with a growing delay and fails
// its job after `maxAttempts` claims; a refused row fails the job when it does not skip bad rows.
// Idle, the runner looks for work every `pollMs` (other gateways' uploads, retries coming due) and
// sweeps abandoned uploads and ended jobs every `sweepEvery` polls; `wake()` looks at once.
import { toGroveError } from '../../shared/errors/grove-error.js';
import type { ClaimedChunk, JobRecord } from '../store/job-store.js';
import type { JobStoreApi } from '../store/store-api.js';
import type { HeldBodies } from './held-bodies.js';
import type { ChunkOutcome } from './job-metrics.js';
import { ChunkNotScored, RowRefused, scoreStoredChunk } from './score-chunk.js';
import type { WorkerBatch } from './worker-batch.js';

export interface RunnerOptions {
  /** This gateway's claim token (unique per process start). */
  owner: string;
  concurrency: () => number;
  leaseS: number;
  pollMs: number;
  sweepEvery: number;
  maxAttempts: number;
}

export interface RunnerDeps {
  store: JobStoreApi;
  batch: WorkerBatch;
  /** Bodies of chunks uploaded here: a claim of one of them scores this copy (held-bodies.ts). */
  held?: HeldBodies;
  /** (model, version) pairs some usable worker holds now. */
  servable: () => [string, string][];
  /** A job ended here (succeeded, failed). */
  ended: (job: JobRecord) => void;
  log: (msg: string) => void;
  counted?: (c: ClaimedChunk, outcome: ChunkOutcome, rows: number) => void;
}

export class JobRunner {
  private inflight = 0;
  private pumping = false;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private polls = 0;
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly d: RunnerDeps,
    private readonly o: RunnerOptions,
  ) {}

  start(): void {
    this.schedule();
    this.wake();
  }

  /** Looks for work now (a chunk was stored, a worker appeared, a chunk finished). */
  wake(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    void this.pump();
  }

  /** Stops claiming; waits for the chunks in flight (their leases are given back if they fail). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.running]);
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      if (this.stopped) return;
      this.d.held?.expire();
      if (++this.polls % this.o.sweepEvery === 0) {
        this.d.store.sweep(false).catch((err) => this.d.log(`jobs sweep failed: ${(err as Error).message}`));
      }
      this.wake();
      this.schedule();
    }, this.o.pollMs);
    this.timer.unref();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.again = false;
        while (!this.stopped && this.inflight < this.o.concurrency()) {
          const c = await this.d.store.claim(
            this.o.owner,
            this.o.leaseS,
            this.d.servable(),
            this.d.held?.held() ?? null,
          );
          if (!c) break;
          this.inflight++;
          const p = this.run(c).finally(() => {
            this.inflight--;
            this.running.delete(p);
            this.wake();
          });
          this.running.add(p);
        }
      } while (this.again && !this.stopped);
    } catch (err) {
      this.d.log(`jobs: cannot claim work: ${(err as Error).message}`);
    } finally {
      this.pumping = false;
    }
  }

  private async run(c: ClaimedChunk): Promise<void> {
    const { store } = this.d;
    if (c.attempts > this.o.maxAttempts) {
      const why = c.lastError ?? 'no worker could score it';
      await this.failJob(
        c.jobId,
        `chunk ${c.seq + 1} (rows from ${c.firstRow}) failed ${c.attempts - 1} times: ${why}`,
        c.lastErrorCode ?? 'GROVE_ERR_UNAVAILABLE',
      );
      return;
    }
    let lost = false;
    const renew = setInterval(
      () => {
        store.renew(this.o.owner, c.jobId, c.seq, this.o.leaseS).then(
          (ok) => {
            if (!ok) lost = true;
          },
          () => {},
        );
      },
      Math.max(100, (this.o.leaseS * 1000) / 3),
    );
    renew.unref();
    try {
      let bytes: Uint8Array | undefined;
      if (c.bodyHeld) {
        // Held here when claimed; read back if the budget let it go since (null: the chunk is gone).
        const body = this.d.held?.take(c.jobId, c.seq) ?? (await store.chunkBody(c.jobId, c.seq));
        if (body === null) {
          this.d.counted?.(c, 'lost', 0);
          return;
        }
        if (typeof body === 'string') c.body = body;
        else bytes = body;
      }
      const scored = await scoreStoredChunk(this.d.batch, c, bytes);
      if (lost) {
        this.d.counted?.(c, 'lost', 0);
        return;
      }
      const job = await store.commit(
        this.o.owner,
        c.jobId,
        c.seq,
        scored.copy,
        scored.rows,
        scored.failed,
        scored.outputNames,
      );
      this.d.counted?.(c, job ? 'scored' : 'lost', scored.rows);
      if (job && job.status === 'succeeded') this.d.ended(job);
    } catch (err) {
      if (err instanceof RowRefused) {
        await this.failJob(c.jobId, err.message, err.code);
      } else if (err instanceof ChunkNotScored) {
        this.d.counted?.(c, 'retried', 0);
        const delayS = Math.min(30, 2 ** (c.attempts - 1));
        await store
          .release(this.o.owner, c.jobId, c.seq, delayS, err.message, err.error.code)
          .catch(() => {});
      } else {
        // The store failed (database gone): the lease runs out and the chunk is claimed again.
        this.d.log(
          `jobs: chunk ${c.seq} of job ${c.jobId}: ${toGroveError(err).message} (${(err as Error).message})`,
        );
      }
    } finally {
      clearInterval(renew);
    }
  }

  async failJob(jobId: string, message: string, code: string): Promise<void> {
    const job = await this.d.store.fail(jobId, message, code);
    if (job) this.d.ended(job);
    await this.d.store.purge(jobId);
  }
}
