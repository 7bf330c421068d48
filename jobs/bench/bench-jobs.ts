// `npm run bench:jobs`: a job of --rows rows (default 1,000,000) through `grove serve` (N workers),
// end to end (upload start to success) and scoring only (first claim to success), on PGlite and on
// PostgreSQL, each beside its peer measured in the same run: the storage alone bulk-loading the same
// keys and predictions into the same table by its fastest path (storage-alone.ts); and beside
// `grove predict` on the same rows; --rounds rounds (default 3) alternate the job and its peer, and
// the medians are printed. Then key lookups with --lookup-rows stored predictions on PostgreSQL,
// driven by wrk at each of --lookup-connections, in rounds beside the machine's floor (a fixed
// answer of the same body, no database). PostgreSQL comes from --pg URL (or
// GROVE_TEST_PG_URL); without one its rows are skipped with the Debian package to install.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { request } from 'undici';
import { projectRoot } from '../../shared/runtime-path.js';
import { openPgDb } from '../store/pg-db.js';
import { openPgliteDb } from '../store/pglite-db.js';
import { writeInputs } from './bench-data.js';
import { fixedReplyServer, lookupDatabase, settleServer, storeLookups, wrkLookups } from './lookup-bench.js';
import { storageAlone } from './storage-alone.js';

const CLI = join(projectRoot, 'dist', 'cli', 'grove.js');
const log = (m: string) => process.stderr.write(`bench:jobs: ${m}\n`);

const { values: a } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    stores: { type: 'string', default: 'pglite,postgres' },
    pg: { type: 'string' },
    workers: { type: 'string', default: '2' },
    'lookup-rows': { type: 'string', default: '10000000' },
    'lookup-seconds': { type: 'string', default: '10' },
    'lookup-connections': { type: 'string', default: '1,8' },
    rounds: { type: 'string', default: '3' },
    /** More `grove serve` flags for the jobs (`--serve-args='--job-chunk-rows 20000'`). */
    'serve-args': { type: 'string', default: '' },
  },
});
const ROUNDS = Math.max(1, Number(a.rounds));
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)]!;
const rows = Number(a.rows);
const pgUrl = a.pg ?? process.env.GROVE_TEST_PG_URL ?? null;

function startServe(stateDir: string, extra: string[]): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--models',
      join(projectRoot, 'models'),
      '--port',
      '0',
      '--admin-port',
      '0',
      '--workers',
      a.workers!,
      '--spares',
      '0',
      '--state-dir',
      stateDir,
      ...a['serve-args']!.split(' ').filter(Boolean),
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let text = '';
  let asked = false;
  return new Promise((resolve, reject) => {
    const on = (c: Buffer) => {
      text += c.toString();
      const m = /grove gateway listening on (\S+)/.exec(text);
      // A new PGlite database is created on the first jobs request: make one.
      if (m && !asked && /grove workers:/.test(text)) {
        asked = true;
        void fetch(`${m[1]!}/v1/jobs?limit=1`).then(
          (r) => r.arrayBuffer(),
          () => {},
        );
      }
      if (m && /jobs database ready/.test(text) && /grove workers:/.test(text)) {
        proc.stdout!.off('data', on);
        proc.stderr!.off('data', on);
        proc.stdout!.resume();
        proc.stderr!.resume();
        resolve({ url: m[1]!, proc });
      }
    };
    proc.stdout!.on('data', on);
    proc.stderr!.on('data', on);
    proc.once('exit', (code) => reject(new Error(`grove serve exited (${code}):\n${text}`)));
  });
}

async function stop(proc: ChildProcess): Promise<void> {
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
}

interface JobRun {
  endToEnd: number;
  scoring: number;
}

async function runJob(url: string, input: string): Promise<JobRun> {
  const r = await request(`${url}/v1/models/churn/versions/1/jobs?key=id`, {
    method: 'POST',
    headers: { 'content-type': 'text/csv', 'content-length': String(statSync(input).size) },
    body: createReadStream(input),
  });
  const job = (await r.body.json()) as { id: string; status: string };
  if (r.statusCode !== 202) throw new Error(`submission refused: ${JSON.stringify(job)}`);
  for (;;) {
    const s = (await (await request(`${url}/v1/jobs/${job.id}`)).body.json()) as Record<
      string,
      string | number
    >;
    if (s.status === 'succeeded') {
      const created = Date.parse(s.created_at as string);
      const started = Date.parse(s.started_at as string);
      const finished = Date.parse(s.finished_at as string);
      return {
        endToEnd: rows / ((finished - created) / 1000),
        scoring: rows / ((finished - started) / 1000),
      };
    }
    if (s.status !== 'running' && s.status !== 'queued') throw new Error(`job ended ${s.status}: ${s.error}`);
    await new Promise((res) => setTimeout(res, 250));
  }
}

async function freshPgDatabase(
  server: string,
  name: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const q = async (sql: string) => {
    const c = new pg.Client({ connectionString: server });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await q(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await q(`CREATE DATABASE ${name}`);
  const u = new URL(server);
  u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => q(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

/** The job rounds on each store beside the storage alone, and `grove predict` on the same rows. */
async function jobRounds(dir: string): Promise<void> {
  log(`writing ${rows} rows`);
  const { keyed, plain } = await writeInputs(dir, rows);
  log('grove predict on the same rows');
  const out = join(dir, 'predict-out.csv');
  const t0 = performance.now();
  execFileSync(process.execPath, [
    CLI,
    'predict',
    '--model',
    join(projectRoot, 'models/churn/1/model.json'),
    '--input',
    plain,
    '--output',
    out,
  ]);
  const predictRate = rows / ((performance.now() - t0) / 1000);
  const predictions = readFileSync(out, 'utf8').trimEnd().split('\n');
  const table: string[][] = [];
  for (const store of a.stores!.split(',')) {
    if (store === 'postgres' && !pgUrl) {
      log('PostgreSQL rows skipped: pass --pg postgres://... (Debian package postgresql)');
      continue;
    }
    // Rounds alternate the job and its peer, so both see the same machine; medians are printed.
    const e2e: number[] = [];
    const scoring: number[] = [];
    const alones: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      log(`${store}: job of ${rows} rows (round ${round} of ${ROUNDS})`);
      const state = join(dir, `state-${store}-${round}`);
      let job: JobRun;
      if (store === 'pglite') {
        const s = await startServe(state, []);
        job = await runJob(s.url, keyed);
        await stop(s.proc);
        rmSync(state, { recursive: true, force: true });
        log(`${store}: storage alone (round ${round} of ${ROUNDS})`);
        const aloneDir = join(dir, `alone-pglite-${round}`);
        const db = await openPgliteDb(aloneDir);
        alones.push(await storageAlone(db, predictions));
        await db.close();
        rmSync(aloneDir, { recursive: true, force: true });
      } else {
        const jdb = await freshPgDatabase(pgUrl!, 'grove_bench_job');
        const s = await startServe(state, ['--jobs-db', jdb.url]);
        job = await runJob(s.url, keyed);
        await stop(s.proc);
        await jdb.drop();
        log(`${store}: storage alone (round ${round} of ${ROUNDS})`);
        const adb = await freshPgDatabase(pgUrl!, 'grove_bench_alone');
        const db = await openPgDb(adb.url);
        alones.push(await storageAlone(db, predictions));
        await db.close();
        await adb.drop();
      }
      e2e.push(job.endToEnd);
      scoring.push(job.scoring);
      log(
        `${store} round ${round}: job ${fmt(job.endToEnd)} rows/s, storage alone ${fmt(alones.at(-1)!)} rows/s (${(job.endToEnd / alones.at(-1)!).toFixed(2)}x), load average ${loadavg()[0]!.toFixed(1)}`,
      );
    }
    const job = { endToEnd: median(e2e), scoring: median(scoring) };
    const alone = median(alones);
    table.push([
      store,
      fmt(job.endToEnd),
      fmt(job.scoring),
      fmt(alone),
      (job.endToEnd / alone).toFixed(2) + 'x',
      (job.scoring / alone).toFixed(2) + 'x',
      fmt(predictRate),
    ]);
  }
  process.stdout.write(
    `\njob of ${rows} rows (churn v1, XGBoost 100x4, key column, ${a.workers} workers), rows/s, medians of ${ROUNDS} rounds:\n` +
      `| store | job, upload start to success | job, scoring only | storage alone (COPY) | ratio e2e | ratio scoring | grove predict, same file |\n|---|---:|---:|---:|---:|---:|---:|\n` +
      table.map((r) => `| ${r.join(' | ')} |`).join('\n') +
      '\n',
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'grove-bench-jobs-'));
  try {
    // --rows 0 runs the lookups alone.
    if (rows > 0) await jobRounds(dir);
    const lookupRows = Number(a['lookup-rows']);
    if (lookupRows > 0 && pgUrl) {
      const { url, sharedBuffers } = await lookupDatabase(pgUrl, lookupRows, log);
      await settleServer(url, log);
      const direct = await storeLookups(url, lookupRows, 20_000);
      const gw = spawn(
        process.execPath,
        [
          CLI,
          'gateway',
          '--upstreams',
          'http://127.0.0.1:9',
          '--port',
          '0',
          '--admin-port',
          '0',
          '--jobs-db',
          url,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let text = '';
      const gwUrl = await new Promise<string>((resolve) => {
        const on = (c: Buffer) => {
          text += c.toString();
          const m = /grove gateway listening on (\S+)/.exec(text);
          if (m && /jobs database ready/.test(text)) resolve(m[1]!);
        };
        gw.stdout!.on('data', on);
        gw.stderr!.on('data', on);
      });
      // The floor answers the body a lookup answers (one stored prediction), without the database.
      const sample = await request(`${gwUrl}/v1/models/churn/predictions/k1`);
      const floor = await fixedReplyServer(await sample.body.text());
      const seconds = Number(a['lookup-seconds']);
      // Warm both (JIT, the database's connections and prepared statement) before measuring.
      wrkLookups(gwUrl, lookupRows, dir, 2, 1);
      wrkLookups(floor.url, lookupRows, dir, 2, 1);
      const conns = a['lookup-connections']!.split(',').map(Number);
      const runs = conns.map((c) => {
        const gwRounds: ReturnType<typeof wrkLookups>[] = [];
        const floorRounds: ReturnType<typeof wrkLookups>[] = [];
        for (let round = 1; round <= ROUNDS; round++) {
          log(`lookups, ${c} connection(s) (round ${round} of ${ROUNDS})`);
          gwRounds.push(wrkLookups(gwUrl, lookupRows, dir, seconds, c));
          floorRounds.push(wrkLookups(floor.url, lookupRows, dir, seconds, c));
        }
        return { c, gw: gwRounds, floor: floorRounds };
      });
      await stop(gw);
      await stop(floor.proc);
      const row = (label: string, w: ReturnType<typeof wrkLookups>[]) =>
        `| ${label} | ${median(w.map((x) => x.p50)).toFixed(2)} | ${median(w.map((x) => x.p99)).toFixed(2)} (${w.map((x) => x.p99.toFixed(2)).join(', ')}) | ${fmt(median(w.map((x) => x.rps)))}${w.some((x) => x.non2xx) ? ' (non-2xx answers!)' : ''} |\n`;
      const conn = (c: number) => `${c} connection${c === 1 ? '' : 's'}`;
      process.stdout.write(
        `\nkey lookup with ${fmt(lookupRows)} stored predictions (PostgreSQL, shared_buffers ${sharedBuffers}, table and index read into memory first), wrk, ${seconds} s a run, medians of ${ROUNDS} rounds (each round's p99), load average ${loadavg()[0]!.toFixed(1)}:\n` +
          `| path | p50 ms | p99 ms | requests/s |\n|---|---:|---:|---:|\n` +
          runs
            .map(
              ({ c, gw: g, floor: f }) =>
                row(`GET /v1/models/churn/predictions/{key} through the gateway, ${conn(c)}`, g) +
                row(`the floor: node:http answering the same body, no database, ${conn(c)}`, f),
            )
            .join('') +
          `| the store's lookup query alone (one connection, 20,000 random keys) | ${direct.p50.toFixed(2)} | ${direct.p99.toFixed(2)} | - |\n`,
      );
    } else if (lookupRows > 0)
      log('lookup rows skipped: pass --pg postgres://... (Debian package postgresql)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench:jobs failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
