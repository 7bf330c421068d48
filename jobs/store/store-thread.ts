// The PGlite store's own thread (see store-api.ts): opens the database in workerData.dataDir,
// applies the migrations, then answers StoreRequests from the parent in order of arrival.
import { existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { ChunkSpool, pruneSpool } from './chunk-spool.js';
import { JobStore } from './job-store.js';
import { loadMigrations, migrate } from './migrate.js';
import { openPgliteDb } from './pglite-db.js';
import { STORE_METHODS, type StoreRequest, type StoreResponse } from './store-api.js';

const allowed = new Set<string>(STORE_METHODS);

async function main(): Promise<void> {
  const port = parentPort!;
  const { dataDir } = workerData as { dataDir: string };
  let store: JobStore;
  try {
    await initialize(dataDir);
    const db = await openPgliteDb(dataDir);
    await migrate(db, await loadMigrations());
    // Chunk bodies live beside the database, in <state-dir>/jobs-spool (chunk-spool.ts).
    const spool = new ChunkSpool(join(dirname(dataDir), 'jobs-spool'));
    await pruneSpool(spool, db);
    store = new JobStore(db, spool);
  } catch (err) {
    port.postMessage({ ready: false, error: (err as Error).message });
    return;
  }
  port.on('message', (m: StoreRequest | { close: true }) => {
    if ('close' in m) {
      store.close().finally(() => port.postMessage({ closed: true }));
      return;
    }
    if (!allowed.has(m.method)) {
      port.postMessage({ id: m.id, ok: false, message: `no store method ${m.method}`, code: null });
      return;
    }
    const f = store[m.method] as (...a: unknown[]) => Promise<unknown>;
    f.apply(store, m.args).then(
      (value) => port.postMessage({ id: m.id, ok: true, value } satisfies StoreResponse),
      (err: Error & { code?: unknown }) =>
        port.postMessage({
          id: m.id,
          ok: false,
          message: err?.message ?? String(err),
          code: typeof err?.code === 'string' ? err.code : null,
        } satisfies StoreResponse),
    );
  });
  port.postMessage({ ready: true });
}

/**
 * A new directory is initialized (PGlite's initdb) beside it and renamed into place when complete,
 * so a process stopped during the seconds that takes leaves no half-made database behind.
 */
async function initialize(dataDir: string): Promise<void> {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return;
  const work = `${dataDir}.init`;
  rmSync(work, { recursive: true, force: true });
  const pg = await PGlite.create({ dataDir: work });
  await pg.close();
  rmSync(dataDir, { recursive: true, force: true });
  renameSync(work, dataDir);
}

void main();
