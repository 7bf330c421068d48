// Key lookups with many stored predictions on PostgreSQL: a database holding one succeeded job of
// `rows` predictions (made server side with generate_series, kept between runs), a gateway on it,
// and wrk asking GET /v1/models/churn/predictions/k<random> at a modest concurrency; also the
// store's own lookup on one connection, to show what the database part costs, and the machine's
// floor: a node:http server answering a fixed body of the same size, which no lookup can beat.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { JobStore } from '../store/job-store.js';
import { loadMigrations, migrate } from '../store/migrate.js';
import { openPgDb } from '../store/pg-db.js';

export async function lookupDatabase(
  serverUrl: string,
  rows: number,
  log: (m: string) => void,
): Promise<{ url: string; sharedBuffers: string }> {
  const name = `grove_bench_lookup_${rows}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  if (!exists) await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  const db = await openPgDb(u.toString());
  await migrate(db, await loadMigrations());
  const have = await db.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM grove_job_results r JOIN grove_jobs j ON j.id = r.job_id WHERE j.status = 'succeeded'`,
  );
  if (Number(have.rows[0]!.n) !== rows) {
    log(`filling ${rows} stored predictions (once; kept in database ${name})`);
    await db.exec('TRUNCATE grove_job_results; DELETE FROM grove_jobs;');
    const job = await db.query<{ id: string }>(
      `INSERT INTO grove_jobs (model, version, status, sealed, format, key_column, output_names, rows_total,
         rows_done, chunks_total, chunks_done, started_at, finished_at)
       VALUES ('churn', '1', 'succeeded', true, 'csv', 'id', ARRAY['prediction'], $1, $1, 0, 0, now(), now())
       RETURNING id::text`,
      [rows],
    );
    const id = job.rows[0]!.id;
    const step = 1_000_000;
    for (let i = 0; i < rows; i += step) {
      await db.query(
        `INSERT INTO grove_job_results (job_id, row_no, key, outputs)
         SELECT $1, g, 'k' || g, ARRAY[random()] FROM generate_series($2::bigint, $3::bigint) g`,
        [id, i + 1, Math.min(rows, i + step)],
      );
    }
    await db.exec('VACUUM ANALYZE grove_job_results');
    await db.exec('ANALYZE grove_jobs');
  }
  // A database that serves lookups has its working set in memory: read the table and its key index
  // (pg_prewarm into shared buffers as far as they hold them, the rest staying in the OS page cache;
  // or a scan where the extension is missing), so the figures are the lookup's, not the first read
  // of each page from disk.
  try {
    await db.exec('CREATE EXTENSION IF NOT EXISTS pg_prewarm');
    await db.exec(`SELECT pg_prewarm('grove_job_results'), pg_prewarm('grove_job_results_key')`);
  } catch {
    await db.exec('SELECT count(*) FROM grove_job_results');
  }
  const sb = await db.query<{ s: string }>('SELECT current_setting($1) AS s', ['shared_buffers']);
  await db.close();
  return { url: u.toString(), sharedBuffers: sb.rows[0]!.s };
}

/**
 * Lets the server finish what earlier work left it (an autovacuum of the job rounds' tables, dirty
 * pages to write) before lookups are timed: a CHECKPOINT, then until no autovacuum worker runs
 * (at most two minutes). Otherwise the lookups measure that background work, not themselves.
 */
export async function settleServer(url: string, log: (m: string) => void): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    // CHECKPOINT needs a superuser or pg_checkpoint: without either, the wait alone.
    await c
      .query('CHECKPOINT')
      .catch((err: Error) => log(`no CHECKPOINT before the lookups: ${err.message}`));
    const until = Date.now() + 120_000;
    for (;;) {
      const r = await c.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'`,
      );
      if (r.rows[0]!.n === 0) return;
      if (Date.now() > until) {
        log(`an autovacuum still runs after two minutes: lookups measured beside it`);
        return;
      }
      await new Promise((res) => setTimeout(res, 500));
    }
  } finally {
    await c.end();
  }
}

/** p50/p99 (ms) of the store's own lookups on one connection. */
export async function storeLookups(
  url: string,
  rows: number,
  n: number,
): Promise<{ p50: number; p99: number }> {
  const db = await openPgDb(url, 1);
  const store = new JobStore(db);
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const key = `k${1 + Math.floor(Math.random() * rows)}`;
    const t0 = performance.now();
    const p = await store.lookup('churn', key);
    t.push(performance.now() - t0);
    if (!p) throw new Error(`no prediction for ${key}`);
  }
  await store.close();
  t.sort((a, b) => a - b);
  return { p50: t[Math.floor(n * 0.5)]!, p99: t[Math.floor(n * 0.99)]! };
}

/**
 * A process answering every request with `body` at once (node:http, no database): what one HTTP
 * exchange on this machine costs through wrk, the floor under the gateway's lookup figures.
 */
export async function fixedReplyServer(body: string): Promise<{ url: string; proc: ChildProcess }> {
  const code = `const b = Buffer.from(${JSON.stringify(body)});
const s = require('node:http').createServer((q, r) => { r.setHeader('content-type', 'application/json'); r.end(b); });
s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
  const proc = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(proc.stdout!, 'data')) as [Buffer];
  return { url: `http://127.0.0.1:${Number(chunk.toString().trim())}`, proc };
}

/** wrk's latency distribution for random keys: p50/p99 in ms and requests/s. */
export function wrkLookups(
  gatewayUrl: string,
  rows: number,
  dir: string,
  seconds: number,
  connections: number,
): { p50: number; p99: number; rps: number; non2xx: number } {
  const script = join(dir, 'keys.lua');
  writeFileSync(
    script,
    `math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/v1/models/churn/predictions/k" .. math.random(1, ${rows}))
end
`,
  );
  const out = execFileSync(
    'wrk',
    [
      '-t',
      String(Math.min(2, connections)),
      '-c',
      String(connections),
      '-d',
      `${seconds}s`,
      '--latency',
      '-s',
      script,
      gatewayUrl,
    ],
    { encoding: 'utf8' },
  );
  const ms = (label: string) => {
    const m = new RegExp(`\\s${label}%\\s+([0-9.]+)(us|ms|s)`).exec(out);
    if (!m) throw new Error(`wrk printed no ${label}% latency:\n${out}`);
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  const rps = Number(/Requests\/sec:\s+([0-9.]+)/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+([0-9]+)/.exec(out)?.[1] ?? 0);
  return { p50: ms('50'), p99: ms('99'), rps, non2xx };
}
