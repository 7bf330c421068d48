import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type TestDatabase } from '../../test/support/pg-database.js';
import { freshPgliteDir } from '../../test/support/pglite-template.js';
import { postgresAvailable, type Service, skipReason, usePostgres } from '../../test/support/services.js';
import { ChunkSpool } from './chunk-spool.js';
import { copyValue } from './copy-text.js';
import { JobStore } from './job-store.js';
import { chunk, NEW, results } from './job-store.test-helper.js';
import { loadMigrations, migrate } from './migrate.js';
import { openPgDb } from './pg-db.js';
import { openPgliteDb } from './pglite-db.js';
import type { SqlDb } from './sql-db.js';

const hasPg = postgresAvailable();
let pgService: Service | null = null;
function suite(
  name: string,
  open: () => Promise<{ db: SqlDb; done: () => Promise<void>; spool?: ChunkSpool }>,
) {
  describe(name, () => {
    let db: SqlDb;
    let store: JobStore;
    let done: () => Promise<void>;
    let spool: ChunkSpool | undefined;
    beforeAll(async () => {
      ({ db, done, spool } = await open());
      expect(await migrate(db, await loadMigrations())).toEqual([1, 2]);
      // A second run applies nothing.
      expect(await migrate(db, await loadMigrations())).toEqual([]);
      store = new JobStore(db, spool ?? null);
    });
    afterAll(async () => {
      await store?.close();
      await done?.();
    });

    it('stores chunks, scores them once each, succeeds on the last, and serves rows by key', async () => {
      const job = await store.createJob(NEW, 60);
      expect(job.status).toBe('queued');
      expect(await store.get(job.id)).toBeNull(); // not listed while the input arrives
      expect(await store.appendChunk(job.id, chunk(0, 1, ['a', 'b']), 60)).toBe(true);
      expect(await store.appendChunk(job.id, chunk(1, 3, ['c']), 60)).toBe(true);
      const sealed = await store.seal(job.id, 3, 2, 100);
      expect(sealed).toMatchObject({ status: 'queued', rowsTotal: 3, chunksTotal: 2, sealed: true });
      // A model this gateway cannot serve is not claimed.
      expect(await store.claim('g1', 30, [['other', '1']])).toBeNull();
      const c0 = (await store.claim('g1', 30, [['m', '1']]))!;
      const c1 = (await store.claim('g2', 30, [['m', '1']]))!;
      expect([c0.seq, c1.seq]).toEqual([0, 1]);
      expect(c0).toMatchObject({ firstRow: 1, rowCount: 2, keys: ['a', 'b'], model: 'm', version: '1' });
      expect(await store.claim('g3', 30, [['m', '1']])).toBeNull(); // both leased
      expect((await store.get(job.id))!.status).toBe('running');
      const r1 = await store.commit(
        'g2',
        job.id,
        1,
        results(job.id, 3, ['c'], (i) => i / 10),
        1,
        0,
        ['p'],
      );
      expect(r1).toMatchObject({ status: 'running', rowsDone: 1, chunksDone: 1, outputNames: ['p'] });
      // Committing a chunk twice stores nothing the second time.
      expect(
        await store.commit(
          'g2',
          job.id,
          1,
          results(job.id, 3, ['c'], () => 9),
          1,
          0,
          ['p'],
        ),
      ).toBeNull();
      const r0 = await store.commit(
        'g1',
        job.id,
        0,
        results(job.id, 1, ['a', 'b'], (i) => i / 10),
        2,
        0,
        null,
      );
      expect(r0).toMatchObject({ status: 'succeeded', rowsDone: 3, rowsTotal: 3 });
      expect(r0!.finishedAt).not.toBeNull();
      const page = await store.resultsPage(job.id, 0, 10);
      expect(page.map((r) => [r.rowNo, r.key, r.outputs])).toEqual([
        [1, 'a', [0.1]],
        [2, 'b', [0.2]],
        [3, 'c', [0.3]],
      ]);
      expect(await store.resultsPage(job.id, 2, 10)).toHaveLength(1);
      expect(await store.lookup('m', 'b')).toMatchObject({ jobId: job.id, version: '1', outputs: [0.2] });
      expect(await store.lookup('m', 'zz')).toBeNull();
      expect(await store.lookup('other', 'b')).toBeNull();
    });

    it('a chunk stored as bytes (a Buffer, or a Uint8Array as a thread receives it) is claimed as its text', async () => {
      const job = await store.createJob({ ...NEW, model: 'bytes' }, 60);
      const text = 'k1,ä😀,1\r\n\nk2,"x",2\n';
      const bytes = Buffer.from(text, 'utf8');
      await store.appendChunk(job.id, { ...chunk(0, 1, ['a', 'b']), body: bytes, keys: null }, 60);
      const plain = new Uint8Array(bytes.length);
      plain.set(bytes);
      await store.appendChunk(job.id, { ...chunk(1, 3, ['c', 'd']), body: plain, keys: null }, 60);
      await store.seal(job.id, 4, 2, bytes.length * 2);
      const a = await store.claim('g', 30, [['bytes', '1']]);
      const b = await store.claim('g', 30, [['bytes', '1']]);
      expect([a?.body, b?.body]).toEqual([text, text]);
      expect(a).toMatchObject({ keys: null, keyColumn: 'id' });
    });

    it('numeric CSV bytes come back as their text (packed on a server, digit-pack.ts)', async () => {
      const job = await store.createJob({ ...NEW, model: 'digits' }, 60);
      const text = 'k1,0.125,-3e-05\nk2,,7\n'.repeat(50);
      await store.appendChunk(job.id, { ...chunk(0, 1, ['a']), body: Buffer.from(text), keys: null }, 60);
      await store.seal(job.id, 100, 1, text.length);
      expect(await store.chunkBody(job.id, 0)).toBe(text);
      expect((await store.claim('g', 30, [['digits', '1']]))?.body).toBe(text);
      const row = await db.query<{ p: boolean }>(
        'SELECT body_packed IS NOT NULL AS p FROM grove_job_chunks WHERE job_id = $1',
        [job.id],
      );
      expect(row.rows).toEqual([{ p: db.kind === 'postgres' }]);
    });

    it('a chunk the claimer holds comes without its body, which stays readable by chunkBody', async () => {
      const job = await store.createJob({ ...NEW, model: 'held' }, 60);
      const bodies = ['k1,1\nk2,2', 'k3,3\nk4,4', 'k5,5'];
      for (let i = 0; i < 3; i++)
        await store.appendChunk(
          job.id,
          { ...chunk(i, 1 + 2 * i, ['x']), rowCount: 1, body: bodies[i]!, keys: null },
          60,
        );
      await store.seal(job.id, 3, 3, 30);
      // Held: chunks 0 and 2 (and one of another job, which changes nothing).
      const held = { jobIds: [job.id, job.id, '999999'], seqs: [0, 2, 1] };
      const a = (await store.claim('g', 30, [['held', '1']], held))!;
      const b = (await store.claim('g', 30, [['held', '1']], held))!;
      const c = (await store.claim('g', 30, [['held', '1']], held))!;
      expect([a.seq, a.bodyHeld, a.body]).toEqual([0, true, '']);
      expect([b.seq, b.bodyHeld, b.body]).toEqual([1, false, bodies[1]]);
      expect([c.seq, c.bodyHeld, c.body]).toEqual([2, true, '']);
      expect(await store.chunkBody(job.id, 0)).toBe(bodies[0]);
      expect(await store.chunkBody(job.id, 2)).toBe(bodies[2]);
      expect(await store.chunkBody(job.id, 7)).toBeNull();
    });

    it('a claim whose lease ran out is taken over, and only the new owner can commit it', async () => {
      const job = await store.createJob({ ...NEW, model: 'lease' }, 60);
      await store.appendChunk(job.id, chunk(0, 1, ['x']), 60);
      await store.seal(job.id, 1, 1, 10);
      const a = await store.claim('dead', 0, [['lease', '1']]);
      expect(a?.attempts).toBe(1);
      const b = await store.claim('alive', 30, [['lease', '1']]);
      expect(b).toMatchObject({ seq: 0, attempts: 2 });
      expect(await store.renew('dead', job.id, 0, 30)).toBe(false);
      expect(
        await store.commit(
          'dead',
          job.id,
          0,
          results(job.id, 1, ['x'], () => 1),
          1,
          0,
          ['p'],
        ),
      ).toBeNull();
      expect(
        await store.commit(
          'alive',
          job.id,
          0,
          results(job.id, 1, ['x'], () => 2),
          1,
          0,
          ['p'],
        ),
      ).toMatchObject({ status: 'succeeded' });
      expect((await store.resultsPage(job.id, 0, 10)).map((r) => r.outputs)).toEqual([[2]]);
    });

    it('a released chunk waits out its delay and keeps its last error', async () => {
      const job = await store.createJob({ ...NEW, model: 'rel' }, 60);
      await store.appendChunk(job.id, chunk(0, 1, ['x']), 60);
      await store.seal(job.id, 1, 1, 10);
      await store.claim('g', 30, [['rel', '1']]);
      await store.release('g', job.id, 0, 3600, 'worker gone', 'GROVE_ERR_UNAVAILABLE');
      expect(await store.claim('g', 30, [['rel', '1']])).toBeNull();
      await store.release('g', job.id, 0, 0, 'x', 'y'); // not the owner any more: no effect
      expect(await store.claim('g', 30, [['rel', '1']])).toBeNull();
    });

    it('cancelling a running job rolls back later commits and purges what was stored', async () => {
      const job = await store.createJob({ ...NEW, model: 'cancel' }, 60);
      await store.appendChunk(job.id, chunk(0, 1, ['a']), 60);
      await store.appendChunk(job.id, chunk(1, 2, ['b']), 60);
      await store.seal(job.id, 2, 2, 10);
      const c0 = (await store.claim('g', 30, [['cancel', '1']]))!;
      const c1 = (await store.claim('g', 30, [['cancel', '1']]))!;
      await store.commit(
        'g',
        job.id,
        c0.seq,
        results(job.id, 1, ['a'], () => 1),
        1,
        0,
        ['p'],
      );
      expect(await store.cancel(job.id)).toMatchObject({ status: 'cancelled' });
      expect(await store.cancel(job.id)).toBe('finished');
      expect(await store.cancel('999999')).toBeNull();
      expect(
        await store.commit(
          'g',
          job.id,
          c1.seq,
          results(job.id, 2, ['b'], () => 1),
          1,
          0,
          ['p'],
        ),
      ).toBeNull();
      await store.sweep(false);
      expect(await store.resultsPage(job.id, 0, 10)).toEqual([]);
      expect(await store.lookup('cancel', 'a')).toBeNull();
    });

    it('raw chunks (bytes or text, rows refused at upload) are claimed back exactly as stored', async () => {
      const job = await store.createJob({ ...NEW, model: 'raw', onError: 'skip' }, 60);
      const bytes = 'id,x\r\nk1,1\r\n\r\nk3,ü 😀\tq\\n\n';
      await store.appendChunk(
        job.id,
        { seq: 0, firstRow: 1, rowCount: 4, body: Buffer.from(bytes), keys: null, skip: [1], errorRows: '' },
        60,
      );
      const text = 'k5,\uFFFD\n';
      await store.appendChunk(
        job.id,
        { seq: 1, firstRow: 5, rowCount: 1, body: text, keys: null, skip: null, errorRows: '' },
        60,
      );
      await store.seal(job.id, 5, 2, 10);
      const a = (await store.claim('g', 30, [['raw', '1']]))!;
      const b = (await store.claim('g', 30, [['raw', '1']]))!;
      expect([a.seq, a.firstRow, a.rowCount, a.keys, a.skip, a.body]).toEqual([0, 1, 4, null, [1], bytes]);
      expect([b.seq, b.firstRow, b.rowCount, b.keys, b.skip, b.body]).toEqual([1, 5, 1, null, null, text]);
    });

    it('keys and errors with COPY and array metacharacters round-trip', async () => {
      const keys = ['tab\there', 'new\nline', 'back\\slash', 'quote"d', 'a,b', '{br}', 'NULL', 'ünï 😀', ''];
      const job = await store.createJob({ ...NEW, model: 'esc', onError: 'skip' }, 60);
      const c = chunk(0, 1, keys);
      c.skip = [8];
      c.errorRows = `${job.id}\t9\t\\N\t\\N\t${copyValue('bad\trow\\x')}\tGROVE_ERR_BAD_KEY\n`;
      await store.appendChunk(job.id, c, 60);
      await store.seal(job.id, keys.length, 1, 10);
      const claimed = (await store.claim('g', 30, [['esc', '1']]))!;
      expect(claimed.keys).toEqual(keys);
      expect(claimed.skip).toEqual([8]);
      await store.commit(
        'g',
        job.id,
        0,
        results(job.id, 1, keys.slice(0, 8), (i) => i),
        8,
        1,
        ['p'],
      );
      const rows = await store.resultsPage(job.id, 0, 100);
      expect(rows.map((r) => r.key)).toEqual([...keys.slice(0, 8), null]);
      expect(rows[8]).toMatchObject({ error: 'bad\trow\\x', errorCode: 'GROVE_ERR_BAD_KEY', outputs: null });
      for (const [i, k] of keys.slice(0, 8).entries())
        expect(await store.lookup('esc', k)).toMatchObject({ outputs: [i + 1] });
      // At once, so most share one statement (the array parameter carries the metacharacters), with
      // a repeated key, a key never scored, the unscored error row's and another model's.
      const asked = [...keys.slice(0, 8), keys[3]!, 'never', keys[8]!];
      const got = await Promise.all([
        ...asked.map((k) => store.lookup('esc', k)),
        store.lookup('m', keys[0]!),
      ]);
      expect(got.map((p) => p?.outputs[0] ?? null)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 4, null, null, null]);
    });

    it('the latest succeeded job answers a key; failed and unfinished jobs never do', async () => {
      const run = async (value: number, finish: 'succeed' | 'fail' | 'leave') => {
        const job = await store.createJob({ ...NEW, model: 'latest' }, 60);
        await store.appendChunk(job.id, chunk(0, 1, ['k']), 60);
        await store.seal(job.id, 1, 1, 10);
        const c = (await store.claim('g', 30, [['latest', '1']]))!;
        if (finish === 'fail') await store.fail(job.id, 'row 1: bad', 'GROVE_ERR_NOT_NUMERIC');
        if (finish !== 'leave')
          await store.commit(
            'g',
            job.id,
            c.seq,
            results(job.id, 1, ['k'], () => value),
            1,
            0,
            ['p'],
          );
        return job.id;
      };
      await run(1, 'succeed');
      const second = await run(2, 'succeed');
      await run(3, 'fail');
      expect(await store.lookup('latest', 'k')).toMatchObject({ jobId: second, outputs: [2] });
      const listed = await store.list({ model: 'latest', limit: 2 });
      expect(listed.map((j) => j.status)).toEqual(['failed', 'succeeded']);
      const next = await store.list({ model: 'latest', limit: 2, before: listed[1]!.id });
      expect(next.map((j) => j.status)).toEqual(['succeeded']);
      expect((await store.list({ model: 'latest', status: 'failed', limit: 9 }))[0]).toMatchObject({
        error: 'row 1: bad',
        errorCode: 'GROVE_ERR_NOT_NUMERIC',
      });
    });

    it('an upload whose lease ran out is deleted by the sweep', async () => {
      // A lease that ran out a second ago: PGlite's clock has millisecond steps, so a lease of 0
      // could still equal now() at the sweep.
      const job = await store.createJob({ ...NEW, model: 'gone' }, -1);
      await store.appendChunk(job.id, chunk(0, 1, ['a']), -1);
      await store.sweep(false);
      expect(await store.appendChunk(job.id, chunk(1, 2, ['b']), 60)).toBe(false);
      expect(await store.seal(job.id, 2, 2, 1)).toBeNull();
    });
  });
}

suite('job store on PGlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'grove-jobs-store-'));
  const db = await openPgliteDb(await freshPgliteDir(join(dir, 'db')));
  return { db, done: async () => rmSync(dir, { recursive: true, force: true }) };
});

// As a gateway runs it: chunk bodies in files of the state dir (chunk-spool.ts).
suite('job store on PGlite with its input spool', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'grove-jobs-store-'));
  const db = await openPgliteDb(await freshPgliteDir(join(dir, 'db')));
  const spool = new ChunkSpool(join(dir, 'spool'));
  return { db, spool, done: async () => rmSync(dir, { recursive: true, force: true }) };
});

describe.skipIf(!hasPg)(hasPg ? 'job store on PostgreSQL' : skipReason('PostgreSQL', 'postgresql'), () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    pgService = await usePostgres();
  });
  afterAll(() => pgService?.stop());
  suite('job store on PostgreSQL', async () => {
    tdb = await createDatabase(pgService!.url, 'grove_jobs_store');
    const db = await openPgDb(tdb.url);
    return {
      db,
      done: () => tdb.drop(),
    };
  });

  it('two gateways claiming at once never get the same chunk', async () => {
    const t = await createDatabase(pgService!.url, 'grove_jobs_claims');
    const [a, b] = [await openPgDb(t.url), await openPgDb(t.url)];
    try {
      await migrate(a, await loadMigrations());
      const sa = new JobStore(a);
      const sb = new JobStore(b);
      const job = await sa.createJob({ ...NEW, model: 'race' }, 60);
      for (let s = 0; s < 40; s++) await sa.appendChunk(job.id, chunk(s, s + 1, [`k${s}`]), 60);
      await sa.seal(job.id, 40, 40, 1);
      const taken: number[] = [];
      const drain = async (s: JobStore, owner: string) => {
        for (;;) {
          const c = await s.claim(owner, 30, [['race', '1']]);
          if (!c) return;
          taken.push(c.seq);
          await s.commit(
            owner,
            job.id,
            c.seq,
            results(job.id, c.firstRow, c.keys!, () => 1),
            1,
            0,
            ['p'],
          );
        }
      };
      await Promise.all([drain(sa, 'A'), drain(sb, 'B'), drain(sa, 'A2'), drain(sb, 'B2')]);
      expect(taken.sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i));
      expect(await sa.get(job.id)).toMatchObject({ status: 'succeeded', rowsDone: 40 });
    } finally {
      await a.close();
      await b.close();
      await t.drop();
    }
  });
});
