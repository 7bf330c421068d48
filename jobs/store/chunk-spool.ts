// The input spool of the embedded (PGlite) jobs database: each chunk's body is a file
// <state-dir>/jobs-spool/<job>/<seq>, not a row of the database (docs/jobs.md, "The input spool").
// The file is written before its chunk row commits and removed only after the row is deleted, so a
// committed chunk always has its file; a file without a row (the process was killed between the
// two steps) is removed by prune() when the store opens. Files are written as PGlite writes its
// own: through the page cache, without fsync, so they survive a killed process as the database does.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SqlDb } from './sql-db.js';

/** Job ids and chunk numbers come from the database; anything else is no file of the spool. */
const NUMBER = /^\d{1,19}$/;

export class ChunkSpool {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private jobDir(jobId: string): string {
    if (!NUMBER.test(jobId)) throw new Error(`not a job id: ${jobId}`);
    return join(this.dir, jobId);
  }

  write(jobId: string, seq: number, body: string | Uint8Array): void {
    const dir = this.jobDir(jobId);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, String(seq)), body);
  }

  /** The chunk's text; null when its file is gone. */
  read(jobId: string, seq: number): string | null {
    try {
      return readFileSync(join(this.jobDir(jobId), String(seq)), 'utf8');
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') return null;
      throw err;
    }
  }

  remove(jobId: string, seq: number): void {
    rmSync(join(this.jobDir(jobId), String(seq)), { force: true });
  }

  removeJob(jobId: string): void {
    rmSync(this.jobDir(jobId), { recursive: true, force: true });
  }

  /** The chunks on disk, by job (anything else in the folder is left alone). */
  list(): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const job of readdirSync(this.dir, { withFileTypes: true })) {
      if (!job.isDirectory() || !NUMBER.test(job.name)) continue;
      const seqs: number[] = [];
      for (const f of readdirSync(join(this.dir, job.name))) if (NUMBER.test(f)) seqs.push(Number(f));
      out.set(job.name, seqs);
    }
    return out;
  }
}

/** Removes the files whose chunk row is gone (or never committed): run when the store opens. */
export async function pruneSpool(spool: ChunkSpool, db: SqlDb): Promise<void> {
  for (const [jobId, seqs] of spool.list()) {
    const r = await db.query<{ seq: number }>(
      'SELECT seq FROM grove_job_chunks WHERE job_id = $1 AND spooled',
      [jobId],
    );
    if (r.rows.length === 0) {
      spool.removeJob(jobId);
      continue;
    }
    const live = new Set(r.rows.map((x) => Number(x.seq)));
    for (const seq of seqs) if (!live.has(seq)) spool.remove(jobId, seq);
  }
}
