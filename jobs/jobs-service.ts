// Durable prediction jobs in the gateway process (docs/jobs.md): the store (PGlite in --state-dir or
// PostgreSQL with --jobs-db), the runner that scores chunks on the workers, the webhooks, and the
// routes. The gateway creates the service with what it routes by (its worker set, its upstream
// caller, its version choice) and puts `withJobRoutes` in front of its own request handler. A
// PostgreSQL store, or a PGlite directory that already exists (it may hold jobs to resume), opens
// in the background at start; a new PGlite database is created on the first jobs request, which
// waits for it: creating one costs seconds of CPU (compiling Postgres's WebAssembly, initdb) that
// would otherwise compete with the first seconds of serving on every start.

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { hostname, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { UpstreamCaller } from '../gateway/forward/upstream-call.js';
import type { WorkerSet } from '../gateway/upstream/worker-set.js';
import { GroveError } from '../shared/errors/grove-error.js';
import { type Reply, replyError } from '../shared/http/reply.js';
import { answerLookup, isJobsPath, type RouteContext, serveJobs } from './http/jobs-routes.js';
import { JobNotifier } from './notify/job-notifier.js';
import { HeldBodies } from './run/held-bodies.js';
import { JobMetrics } from './run/job-metrics.js';
import { JobRunner } from './run/job-runner.js';
import { WorkerBatch } from './run/worker-batch.js';
import type { JobRecord } from './store/job-store.js';
import { openStore } from './store/open-store.js';
import type { JobStoreApi } from './store/store-api.js';

export const DEFAULT_MAX_JOB_BYTES = 10 * 1024 ** 3;
/**
 * Uploaded chunk bodies kept for this gateway's own claims (run/held-bodies.ts): a sixteenth of the
 * memory the process may use (the machine's, or its cgroup's limit when lower), from 64 MiB to 1
 * GiB. A chunk not held is read back from the database, which cost a 1,000,000-row job on
 * PostgreSQL 0.2 to 0.3 s of its 6.5 (docs/jobs.md, Performance).
 */
export function defaultHeldBytes(): number {
  const limit = (process.constrainedMemory?.() as number | undefined) ?? 0;
  const memory = limit > 0 && limit < totalmem() ? limit : totalmem();
  return Math.min(1024 ** 3, Math.max(64 * 1024 ** 2, Math.floor(memory / 16)));
}

export interface JobsOptions {
  /** PGlite's directory is <stateDir>/jobs-db. */
  stateDir?: string;
  /** postgres://... instead of PGlite. */
  databaseUrl?: string;
  maxJobBytes?: number;
  /** Notified of every job that ends. */
  webhookUrl?: string;
  /** Let per-job notify URLs reach private addresses. */
  notifyPrivate?: boolean;
  /** Rows per stored and scored chunk (default 10000). */
  chunkRows?: number;
  /** Chunks in flight at once (default: two per worker). */
  concurrency?: number;
  /** A claimed chunk's lease, seconds (default 30): how soon another gateway takes over a dead one's. */
  leaseS?: number;
  /** Idle look for work (default 1000 ms). */
  pollMs?: number;
  /** Bytes of uploaded chunk bodies kept to score without reading back (default 256 MiB; 0: none). */
  heldBytes?: number;
  log?: (msg: string) => void;
}

/** What the jobs take from the gateway. */
export interface JobsGateway {
  workers: WorkerSet;
  caller: UpstreamCaller;
  chooseVersion(
    headers: IncomingHttpHeaders,
    model: string,
    version: string | undefined,
  ): string | GroveError;
  /** The gateway's metrics registry (its /metrics). */
  registry?: Registry;
}

export class JobsService {
  /**
   * Resolves when the store is open and the runner started (rejects if it cannot open); null
   * until opening starts (a new PGlite database opens on the first jobs request, or `open()`).
   */
  private opened: Promise<void> | null = null;
  private ctx: RouteContext | null = null;
  private store: JobStoreApi | null = null;
  private runner: JobRunner | null = null;
  private unavailable = new GroveError(
    'the jobs database is still opening; retry shortly',
    'GROVE_ERR_JOBS_STORE',
  );
  private readonly notifier: JobNotifier;
  private readonly onWorkers = () => this.runner?.wake();
  private closed = false;
  private readonly opening = new AbortController();
  private readonly log: (m: string) => void;

  constructor(
    private readonly o: JobsOptions,
    private readonly gw: JobsGateway,
  ) {
    const log = o.log ?? ((m: string) => process.stderr.write(`grove jobs: ${m}\n`));
    this.log = log;
    this.notifier = new JobNotifier({
      webhookUrl: o.webhookUrl,
      allowPrivate: o.notifyPrivate === true,
      log,
    });
    if (o.databaseUrl || (o.stateDir !== undefined && existsSync(join(o.stateDir, 'jobs-db'))))
      void this.open();
  }

  /** Opens the store and starts the runner, once; resolves when done (rejects if it cannot open). */
  open(): Promise<void> {
    if (this.opened === null) {
      this.opened = this.openStore(this.log);
      this.opened.catch((err: Error) => {
        this.unavailable =
          err instanceof GroveError ? err : new GroveError(err.message, 'GROVE_ERR_JOBS_STORE');
        if (!this.closed) this.log(`cannot open the jobs database: ${err.message}`);
      });
    }
    return this.opened;
  }

  private async openStore(log: (m: string) => void): Promise<void> {
    const store = await openStore(
      { stateDir: this.o.stateDir, databaseUrl: this.o.databaseUrl },
      this.opening.signal,
    );
    if (this.closed) {
      await store.close();
      return;
    }
    this.store = store;
    await store.sweep(store.soleOwner);
    const batch = new WorkerBatch(this.gw.caller);
    const workers = this.gw.workers;
    const held = new HeldBodies(this.o.heldBytes ?? defaultHeldBytes());
    const ended = (job: JobRecord) => {
      held.dropJob(job.id);
      this.notifier.ended(job);
    };
    const metrics = this.gw.registry ? new JobMetrics(this.gw.registry) : null;
    const runner = new JobRunner(
      {
        store,
        batch,
        held,
        servable: () => servable(workers),
        ended,
        log,
        counted: (c, outcome, rows) => metrics?.chunk(c.model, c.version, outcome, rows),
      },
      {
        owner: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
        concurrency: () => this.o.concurrency ?? Math.max(2, 2 * workers.all.length),
        leaseS: this.o.leaseS ?? 30,
        pollMs: this.o.pollMs ?? 1000,
        sweepEvery: 30,
        maxAttempts: 8,
      },
    );
    this.runner = runner;
    this.ctx = {
      store,
      batch,
      chooseVersion: (h, m, v) => this.gw.chooseVersion(h, m, v),
      maxJobBytes: this.o.maxJobBytes ?? DEFAULT_MAX_JOB_BYTES,
      chunkRows: this.o.chunkRows ?? 10_000,
      chunkChars: 8 * 1024 * 1024,
      uploadLeaseS: Math.max(this.o.leaseS ?? 30, 60),
      notifyPrivate: this.o.notifyPrivate === true,
      held,
      wake: () => runner.wake(),
      ended,
      cancelled: (id) => {
        held.dropJob(id);
        void store.purge(id).catch(() => {});
      },
    };
    workers.on('change', this.onWorkers);
    runner.start();
    log(`jobs database ready (${store.kind === 'pglite' ? 'PGlite' : 'PostgreSQL'})`);
  }

  /** An upload's limit (--max-job-bytes) for a POST to a jobs route; null for any other request. */
  bodyLimitOf(req: IncomingMessage): number | null {
    if (req.method !== 'POST' || !isJobsPath(pathOf(req.url ?? '/'))) return null;
    return this.o.maxJobBytes ?? DEFAULT_MAX_JOB_BYTES;
  }

  /** Serves the request if it is a jobs route; false otherwise. */
  route(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '/';
    const path = pathOf(url);
    if (!isJobsPath(path)) return false;
    const query = new URLSearchParams(url.slice(path.length + 1));
    if (this.ctx !== null || this.closed) {
      void serveJobs(this.ctx, this.unavailable, req, res, path, query);
      return true;
    }
    // Not open yet: the request waits for it (its body stays unread meanwhile).
    const serve = () => void serveJobs(this.ctx, this.unavailable, req, res, path, query);
    this.open().then(serve, serve);
    return true;
  }

  /**
   * `GET /v1/models/{m}/predictions/{key}` off the gateway's fast front (model and key decoded
   * from the path): the answer is one socket write, with none of node:http's per-request objects,
   * which is most of what a lookup costs the gateway (docs/jobs.md#performance).
   */
  lookupFast(reply: Reply, model: string, key: string, requestId: string): void {
    const answer = () => {
      const ctx = this.ctx;
      const done =
        ctx === null
          ? Promise.reject(this.unavailable)
          : answerLookup(ctx.store, reply, model, key, requestId);
      done.catch((err) => replyError(reply, err, requestId));
    };
    if (this.ctx !== null || this.closed) answer();
    else this.open().then(answer, answer);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.opening.abort();
    this.gw.workers.off('change', this.onWorkers);
    await this.opened?.catch(() => {});
    await this.runner?.stop();
    await this.notifier.close();
    await this.store?.close();
  }
}

/** A request target's path: what precedes the query. */
function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

function servable(workers: WorkerSet): [string, string][] {
  const out: [string, string][] = [];
  for (const [m, vs] of workers.models()) for (const v of vs) if (workers.hasUsable(m, v)) out.push([m, v]);
  return out;
}

const DISABLED = new GroveError(
  'this gateway keeps no jobs: start it with --state-dir DIR or --jobs-db postgres://...',
  'GROVE_ERR_JOBS_DISABLED',
);

/** The gateway's request handler with the jobs routes in front (answered 501 when jobs are off). */
export function withJobRoutes(jobs: JobsService | null, next: RequestListener): RequestListener {
  return (req, res) => {
    if (jobs) {
      if (!jobs.route(req, res)) next(req, res);
      return;
    }
    const path = pathOf(req.url ?? '/');
    if (isJobsPath(path)) void serveJobs(null, DISABLED, req, res, path, new URLSearchParams());
    else next(req, res);
  };
}
