import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPgliteDir } from '../../test/support/pglite-template.js';
import { ChunkSpool, pruneSpool } from './chunk-spool.js';
import { JobStore } from './job-store.js';
import { chunk, NEW, results } from './job-store.test-helper.js';
import { loadMigrations, migrate } from './migrate.js';
import { openPgliteDb } from './pglite-db.js';
import type { SqlDb } from './sql-db.js';

describe('the input spool (chunk bodies in files of the state dir)', () => {
  let dir: string;
  let db: SqlDb;
  let spool: ChunkSpool;
  let store: JobStore;
  const files = (jobId: string) => {
    const d = join(dir, 'spool', jobId);
    return existsSync(d) ? readdirSync(d).sort() : null;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'grove-spool-'));
    db = await openPgliteDb(await freshPgliteDir(join(dir, 'db')));
    await migrate(db, await loadMigrations());
    spool = new ChunkSpool(join(dir, 'spool'));
    store = new JobStore(db, spool);
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a body in its file, not the database, until the chunk is scored; the job leaves nothing', async () => {
    const job = await store.createJob(NEW, 60);
    const bytes = Buffer.from('k1,ä,1\nk2,2,2', 'utf8');
    await store.appendChunk(job.id, { ...chunk(0, 1, ['a', 'b']), body: bytes }, 60);
    await store.appendChunk(job.id, chunk(1, 3, ['c']), 60);
    expect(files(job.id)).toEqual(['0', '1']);
    expect(readFileSync(join(dir, 'spool', job.id, '0'))).toEqual(bytes);
    const rows = await db.query<{ body: string; spooled: boolean }>(
      'SELECT body, spooled FROM grove_job_chunks WHERE job_id = $1 ORDER BY seq',
      [job.id],
    );
    expect(rows.rows).toEqual([
      { body: '', spooled: true },
      { body: '', spooled: true },
    ]);
    await store.seal(job.id, 3, 2, 100);
    const c0 = (await store.claim('g', 30, [['m', '1']]))!;
    expect(c0.body).toBe('k1,ä,1\nk2,2,2');
    expect(await store.chunkBody(job.id, 1)).toBe('3,1');
    await store.commit(
      'g',
      job.id,
      0,
      results(job.id, 1, ['a', 'b'], () => 1),
      2,
      0,
      ['p'],
    );
    expect(files(job.id)).toEqual(['1']);
    const c1 = (await store.claim('g', 30, [['m', '1']], { jobIds: [job.id], seqs: [1] }))!;
    expect([c1.bodyHeld, c1.body]).toEqual([true, '']);
    const done = await store.commit(
      'g',
      job.id,
      1,
      results(job.id, 3, ['c'], () => 1),
      1,
      0,
      ['p'],
    );
    expect(done?.status).toBe('succeeded');
    expect(files(job.id)).toBeNull();
  });

  it('a chunk refused (the job ended) leaves no file; an abandoned or purged job none either', async () => {
    const ended = await store.createJob({ ...NEW, model: 'ended' }, 60);
    await store.appendChunk(ended.id, chunk(0, 1, ['a']), 60);
    await store.fail(ended.id, 'stop', 'GROVE_ERR_BAD_INPUT');
    expect(await store.appendChunk(ended.id, chunk(1, 2, ['b']), 60)).toBe(false);
    expect(files(ended.id)).toEqual(['0']);
    await store.purge(ended.id);
    expect(files(ended.id)).toBeNull();

    const gone = await store.createJob({ ...NEW, model: 'gone' }, -1); // its lease ran out
    await store.appendChunk(gone.id, chunk(0, 1, ['a']), -1);
    expect(files(gone.id)).toEqual(['0']);
    await store.sweep(false);
    expect(files(gone.id)).toBeNull();
  });

  it('a file whose chunk row never committed (a killed process) is pruned; live ones are kept', async () => {
    const job = await store.createJob({ ...NEW, model: 'prune' }, 60);
    await store.appendChunk(job.id, chunk(0, 1, ['a']), 60);
    spool.write(job.id, 5, 'orphan');
    spool.write('987654', 0, 'no such job');
    mkdirSync(join(dir, 'spool', 'not-a-job'));
    writeFileSync(join(dir, 'spool', 'not-a-job', 'x'), 'left alone');
    writeFileSync(join(dir, 'spool', '424242'), 'a file, not a job folder');
    await pruneSpool(spool, db);
    expect(files(job.id)).toEqual(['0']);
    expect(files('987654')).toBeNull();
    expect(existsSync(join(dir, 'spool', 'not-a-job', 'x'))).toBe(true);
    expect(existsSync(join(dir, 'spool', '424242'))).toBe(true);
  });

  it('a spooled chunk whose file is gone fails its job with GROVE_ERR_JOB_INPUT_LOST', async () => {
    const job = await store.createJob({ ...NEW, model: 'lost' }, 60);
    await store.appendChunk(job.id, chunk(0, 1, ['a']), 60);
    await store.seal(job.id, 1, 1, 10);
    rmSync(join(dir, 'spool', job.id, '0'));
    expect(await store.claim('g', 30, [['lost', '1']])).toBeNull();
    expect(await store.get(job.id)).toMatchObject({
      status: 'failed',
      error: 'the stored input of chunk 0 is gone or damaged',
    });
    expect((await db.query('SELECT error_code FROM grove_jobs WHERE id = $1', [job.id])).rows).toEqual([
      { error_code: 'GROVE_ERR_JOB_INPUT_LOST' },
    ]);
  });

  it('names only numeric jobs and chunks as files', () => {
    expect(() => spool.write('../x', 0, 'no')).toThrow(/not a job id/);
    expect(() => spool.read('1/../../x', 0)).toThrow(/not a job id/);
  });
});
