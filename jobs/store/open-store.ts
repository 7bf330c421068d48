// Opens the jobs database: PostgreSQL when a URL is given (--jobs-db), else PGlite in
// <state-dir>/jobs-db, run in a thread of its own (store-api.ts) and guarded by a lock file so two
// processes never open one PGlite directory (it is not made for that).
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { GroveError } from '../../shared/errors/grove-error.js';
import { builtSibling } from '../../shared/runtime-path.js';
import { JobStore } from './job-store.js';
import { loadMigrations, migrate } from './migrate.js';
import { openPgDb } from './pg-db.js';
import { type JobStoreApi, STORE_METHODS, type StoreResponse } from './store-api.js';

export interface StoreOptions {
  /** postgres://... : a PostgreSQL server. */
  databaseUrl?: string;
  /** Otherwise PGlite in <stateDir>/jobs-db. */
  stateDir?: string;
}

/** `signal`: stop opening (the gateway is closing); PGlite's thread is ended. */
export async function openStore(o: StoreOptions, signal?: AbortSignal): Promise<JobStoreApi> {
  if (o.databaseUrl) {
    let db: Awaited<ReturnType<typeof openPgDb>>;
    try {
      db = await openPgDb(o.databaseUrl);
    } catch (err) {
      throw new GroveError(
        `cannot reach the jobs database: ${(err as Error).message}`,
        'GROVE_ERR_JOBS_STORE',
      );
    }
    await migrate(db, await loadMigrations());
    const store = new JobStore(db);
    const api = { kind: 'postgres', soleOwner: false, close: () => store.close() } as Record<string, unknown>;
    for (const m of STORE_METHODS) api[m] = (store[m] as (...a: unknown[]) => unknown).bind(store);
    return api as unknown as JobStoreApi;
  }
  if (!o.stateDir) throw new GroveError('jobs need --state-dir or --jobs-db', 'GROVE_ERR_JOBS_DISABLED');
  return openPgliteThread(join(o.stateDir, 'jobs-db'), signal);
}

async function openPgliteThread(dataDir: string, signal?: AbortSignal): Promise<JobStoreApi> {
  mkdirSync(dirname(dataDir), { recursive: true });
  const unlock = lockDir(`${dataDir}.lock`);
  const worker = new Worker(builtSibling(import.meta.url, 'store-thread.js'), { workerData: { dataDir } });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let closed: (() => void) | null = null;
  let failure: Error | null = null;
  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (m: StoreResponse | { ready: boolean; error?: string } | { closed: true }) => {
      if ('ready' in m) {
        if (m.ready) resolve();
        else reject(new GroveError(`cannot open the jobs database: ${m.error}`, 'GROVE_ERR_JOBS_STORE'));
        return;
      }
      if ('closed' in m) {
        closed?.();
        return;
      }
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(GroveError.fromWire(m.message, m.code ?? 'GROVE_ERR_JOBS_STORE'));
    });
    const aborted = () => reject(new GroveError('closed while opening', 'GROVE_ERR_JOBS_STORE'));
    if (signal?.aborted) aborted();
    signal?.addEventListener('abort', aborted, { once: true });
    worker.on('error', (err) => {
      failure = new GroveError(`the jobs database thread failed: ${err.message}`, 'GROVE_ERR_JOBS_STORE');
      reject(failure);
      for (const p of pending.values()) p.reject(failure);
      pending.clear();
    });
  });
  try {
    await ready;
  } catch (err) {
    await worker.terminate();
    unlock();
    throw err;
  }
  let next = 1;
  const api: Record<string, unknown> = {
    kind: 'pglite',
    soleOwner: true,
    async close() {
      const done = new Promise<void>((r) => (closed = r));
      worker.postMessage({ close: true });
      await done;
      await worker.terminate();
      unlock();
    },
  };
  for (const method of STORE_METHODS) {
    api[method] = (...args: unknown[]) =>
      new Promise((resolve, reject) => {
        if (failure) return reject(failure);
        const id = next++;
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, method, args });
      });
  }
  return api as unknown as JobStoreApi;
}

/** Takes `<dir>.lock` (our pid inside); a lock whose process is gone is taken over. */
function lockDir(path: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && (pid === process.pid || alive(pid))) {
        throw new GroveError(
          `the jobs database in ${path.replace(/\.lock$/, '')} is in use by process ${pid}`,
          'GROVE_ERR_JOBS_STORE',
        );
      }
      unlinkSync(path);
    }
  }
  throw new GroveError(`cannot lock ${path}`, 'GROVE_ERR_JOBS_STORE');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
