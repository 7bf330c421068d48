// Every statement of the job machinery (docs/jobs.md), written once against SqlDb so PGlite and
// PostgreSQL run the same SQL (a chunk's body aside: a spool file with PGlite, chunk-spool.ts; a
// column, packed when numeric, with PostgreSQL, chunk-body.ts). The durability rules live here:
// - a chunk is claimed under a lease (SELECT ... FOR UPDATE SKIP LOCKED, so gateways sharing one
//   PostgreSQL never take the same chunk) and stays pending until the transaction that stores its
//   results also deletes it, after checking the claim is still this gateway's: a killed gateway's
//   chunks are taken over when their lease runs out, and every row is stored exactly once;
// - the job row is updated last in that transaction and only while the job is queued or running,
//   so results of a job cancelled or failed meanwhile are rolled back, never half-kept;
// - a job whose input is still arriving is not listed, and is deleted when its upload lease runs out.

import { bodyParams, rowText } from './chunk-body.js';
import type { ChunkSpool } from './chunk-spool.js';
import {
  type ChunkIn,
  type ClaimedChunk,
  type HeldChunks,
  type JobRecord,
  type ListFilter,
  type NewJob,
  type ResultRow,
  type Row,
  type StoredPrediction,
  toClaimedChunk,
  toJob,
} from './job-records.js';
import { KeyLookups, lookupKeys } from './key-lookups.js';
import type { SqlDb, SqlRunner } from './sql-db.js';

export type {
  ChunkIn,
  ClaimedChunk,
  HeldChunks,
  JobFormat,
  JobRecord,
  JobStatus,
  ListFilter,
  NewJob,
  OnError,
  ResultRow,
  StoredPrediction,
} from './job-records.js';

export const RESULT_COLUMNS = ['job_id', 'row_no', 'key', 'outputs', 'error', 'error_code'] as const;
const ACTIVE = `status IN ('queued', 'running')`;
/** SQLSTATE of an insert whose referenced row is gone. */
const FOREIGN_KEY_VIOLATION = '23503';

/** Thrown inside a transaction to roll it back without an error reaching the caller. */
class Rollback extends Error {}

export class JobStore {
  private readonly keyLookups: KeyLookups;

  /** `spool`: keep chunk bodies in files (chunk-spool.ts; PGlite) instead of in the database. */
  constructor(
    readonly db: SqlDb,
    private readonly spool: ChunkSpool | null = null,
  ) {
    this.keyLookups = new KeyLookups((model, keys) => lookupKeys(db, model, keys));
  }

  async createJob(j: NewJob, uploadLeaseS: number): Promise<JobRecord> {
    const r = await this.db.query<Row>(
      `INSERT INTO grove_jobs (model, version, format, header, key_column, on_error, notify_url, upload_lease)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8)) RETURNING *`,
      [j.model, j.version, j.format, j.header, j.keyColumn, j.onError, j.notifyUrl, uploadLeaseS],
    );
    return toJob(r.rows[0]!);
  }

  /**
   * Stores one chunk of an upload; false when the job is no longer queued or running. The job row
   * is updated (locked, and its status checked under the lock) last, as in commit(): every chunk
   * stored or scored updates that one row, so each transaction holds its lock only from that
   * update to its commit, not while megabytes of input are written. A spooled body is on disk
   * before its row can commit (chunk-spool.ts).
   */
  async appendChunk(jobId: string, c: ChunkIn, uploadLeaseS: number): Promise<boolean> {
    this.spool?.write(jobId, c.seq, c.body);
    let stored = false;
    try {
      stored = await this.db.transaction(async (tx) => {
        const insert = (body: string) =>
          `INSERT INTO grove_job_chunks (job_id, seq, first_row, row_count, keys, skip, body, body_packed, spooled)
           VALUES ($1, $2, $3, $4, $5, $6, ${body}, ${this.spool !== null})`;
        const params = [jobId, c.seq, c.firstRow, c.rowCount, c.keys, c.skip];
        if (this.spool !== null) await tx.query(insert("'', NULL"), params);
        else if (tx.queryBlob) await tx.queryBlob(insert(`pg_read_file('/dev/blob'), NULL`), params, c.body);
        else await tx.query(insert('$7, $8'), [...params, ...bodyParams(c.body)]);
        await tx.copyIn('grove_job_results', RESULT_COLUMNS, c.errorRows);
        const r = await tx.query(
          `UPDATE grove_jobs SET upload_lease = now() + make_interval(secs => $2) WHERE id = $1 AND ${ACTIVE} RETURNING id`,
          [jobId, uploadLeaseS],
        );
        if (r.rowCount === 0) throw new Rollback();
        return true;
      });
      return stored;
    } catch (err) {
      // Rolled back: the job ended meanwhile, or its row is gone (deleted upload: foreign key).
      if (err instanceof Rollback || (err as { code?: unknown }).code === FOREIGN_KEY_VIOLATION) return false;
      throw err;
    } finally {
      if (!stored) this.spool?.remove(jobId, c.seq);
    }
  }

  /** Keeps an upload's lease while it waits on a slow client. */
  async renewUpload(jobId: string, uploadLeaseS: number): Promise<void> {
    await this.db.query(
      'UPDATE grove_jobs SET upload_lease = now() + make_interval(secs => $2) WHERE id = $1 AND NOT sealed',
      [jobId, uploadLeaseS],
    );
  }

  /** The input is complete: the job is listed, and succeeds at once if every chunk is already scored. */
  async seal(
    jobId: string,
    rowsTotal: number,
    chunksTotal: number,
    bytes: number,
  ): Promise<JobRecord | null> {
    const done = `${ACTIVE} AND chunks_done = $3`;
    const r = await this.db.query<Row>(
      `UPDATE grove_jobs SET sealed = true, upload_lease = NULL, rows_total = $2, chunks_total = $3,
         input_bytes = $4,
         status = CASE WHEN ${done} THEN 'succeeded' ELSE status END,
         started_at = CASE WHEN ${done} THEN COALESCE(started_at, now()) ELSE started_at END,
         finished_at = CASE WHEN ${done} THEN now() ELSE finished_at END
       WHERE id = $1 AND NOT sealed RETURNING *`,
      [jobId, rowsTotal, chunksTotal, bytes],
    );
    if (r.rows[0]?.status === 'succeeded') this.spool?.removeJob(jobId);
    return r.rows[0] ? toJob(r.rows[0]) : null;
  }

  /** Deletes an upload that will not complete (client gone, body too large). */
  async abandon(jobId: string): Promise<void> {
    await this.db.query('DELETE FROM grove_job_results WHERE job_id = $1', [jobId]);
    const r = await this.db.query('DELETE FROM grove_jobs WHERE id = $1 AND NOT sealed', [jobId]);
    if (r.rowCount === 1) this.spool?.removeJob(jobId);
  }

  /** Takes the oldest pending chunk of a job this gateway can serve, under a lease. */
  async claim(
    owner: string,
    leaseS: number,
    servable: readonly (readonly [string, string])[],
    held: HeldChunks | null = null,
  ): Promise<ClaimedChunk | null> {
    if (servable.length === 0) return null;
    return this.db.transaction(async (tx) => {
      const r = await tx.query<Row>(
        `WITH pick AS (
           SELECT c.job_id, c.seq, j.model, j.version, j.format, j.header, j.on_error, j.key_column, j.status,
             (c.job_id, c.seq) IN (SELECT h.j, h.s FROM unnest($5::bigint[], $6::int[]) AS h (j, s)) AS held
           FROM grove_job_chunks c JOIN grove_jobs j ON j.id = c.job_id
           WHERE j.${ACTIVE} AND (c.lease_until IS NULL OR c.lease_until < now())
             AND (j.model, j.version) IN (SELECT m, v FROM unnest($3::text[], $4::text[]) AS s (m, v))
           ORDER BY c.job_id, c.seq LIMIT 1
           FOR UPDATE OF c SKIP LOCKED)
         UPDATE grove_job_chunks c
         SET claim = $1, lease_until = now() + make_interval(secs => $2), attempts = c.attempts + 1
         FROM pick WHERE c.job_id = pick.job_id AND c.seq = pick.seq
         RETURNING c.job_id, c.seq, c.first_row, c.row_count, c.keys, c.skip, c.attempts,
           c.last_error, c.last_error_code, pick.model, pick.version, pick.format, pick.header,
           pick.on_error, pick.key_column, pick.status, pick.held, c.spooled,
           CASE WHEN pick.held THEN NULL ELSE c.body END AS body,
           CASE WHEN pick.held THEN NULL ELSE c.body_packed END AS body_packed`,
        [
          owner,
          leaseS,
          servable.map((s) => s[0]),
          servable.map((s) => s[1]),
          held?.jobIds ?? [],
          held?.seqs ?? [],
        ],
      );
      const c = r.rows[0];
      if (!c) return null;
      if (c.held !== true) {
        c.body = c.spooled === true ? this.spooled(String(c.job_id), Number(c.seq)) : rowText(c);
        // Never scored as something else, nor claimed again and again: the job fails.
        if (c.body === null) {
          await tx.query(
            `UPDATE grove_jobs SET status = 'failed', error = $2, error_code = 'GROVE_ERR_JOB_INPUT_LOST',
               finished_at = now() WHERE id = $1 AND ${ACTIVE}`,
            [c.job_id, `the stored input of chunk ${c.seq} is gone or damaged`],
          );
          return null;
        }
      }
      if (c.status === 'queued') {
        await tx.query(
          `UPDATE grove_jobs SET status = 'running', started_at = COALESCE(started_at, now())
           WHERE id = $1 AND status = 'queued'`,
          [c.job_id],
        );
      }
      return toClaimedChunk(c);
    });
  }

  /** A claimed chunk's body, read when the claimer no longer holds it (null: the chunk is gone). */
  async chunkBody(jobId: string, seq: number): Promise<string | null> {
    const r = await this.db.query<Row>(
      'SELECT body, body_packed, spooled FROM grove_job_chunks WHERE job_id = $1 AND seq = $2',
      [jobId, seq],
    );
    const c = r.rows[0];
    if (!c) return null;
    return c.spooled === true ? this.spooled(jobId, seq) : rowText(c);
  }

  private spooled(jobId: string, seq: number): string | null {
    return this.spool === null ? null : this.spool.read(jobId, seq);
  }

  /** Extends a claim; false when it is no longer this owner's. */
  async renew(owner: string, jobId: string, seq: number, leaseS: number): Promise<boolean> {
    const r = await this.db.query(
      `UPDATE grove_job_chunks SET lease_until = now() + make_interval(secs => $4)
       WHERE job_id = $1 AND seq = $2 AND claim = $3`,
      [jobId, seq, owner, leaseS],
    );
    return r.rowCount === 1;
  }

  /** Gives a chunk back after a failure that may pass; nobody takes it for `delayS`. */
  async release(
    owner: string,
    jobId: string,
    seq: number,
    delayS: number,
    error: string,
    code: string,
  ): Promise<void> {
    await this.db.query(
      `UPDATE grove_job_chunks SET claim = NULL, lease_until = now() + make_interval(secs => $4),
         last_error = $5, last_error_code = $6
       WHERE job_id = $1 AND seq = $2 AND claim = $3`,
      [jobId, seq, owner, delayS, error, code],
    );
  }

  /**
   * Stores a scored chunk: its results (COPY text), its progress, and the job's success when it was
   * the last one. Null when the chunk is no longer this owner's or the job is no longer running:
   * then nothing is stored.
   */
  async commit(
    owner: string,
    jobId: string,
    seq: number,
    results: string,
    rows: number,
    failed: number,
    outputNames: string[] | null,
  ): Promise<JobRecord | null> {
    try {
      const job = await this.db.transaction(async (tx) => {
        const d = await tx.query(
          'DELETE FROM grove_job_chunks WHERE job_id = $1 AND seq = $2 AND claim = $3',
          [jobId, seq, owner],
        );
        if (d.rowCount !== 1) throw new Rollback();
        await tx.copyIn('grove_job_results', RESULT_COLUMNS, results);
        const last = 'sealed AND chunks_done + 1 = chunks_total';
        const r = await tx.query<Row>(
          `UPDATE grove_jobs SET rows_done = rows_done + $2, rows_failed = rows_failed + $3,
             chunks_done = chunks_done + 1, output_names = COALESCE(output_names, $4),
             status = CASE WHEN ${last} THEN 'succeeded' ELSE status END,
             finished_at = CASE WHEN ${last} THEN now() ELSE finished_at END
           WHERE id = $1 AND ${ACTIVE} RETURNING *`,
          [jobId, rows, failed, outputNames],
        );
        if (r.rows.length !== 1) throw new Rollback();
        return toJob(r.rows[0]!);
      });
      // Its row is deleted: the file goes too (a crash first leaves it to pruneSpool()).
      if (job?.status === 'succeeded') this.spool?.removeJob(jobId);
      else this.spool?.remove(jobId, seq);
      return job;
    } catch (err) {
      if (err instanceof Rollback) return null;
      throw err;
    }
  }

  /** Fails a queued or running job; null when it had already ended. */
  async fail(jobId: string, error: string, code: string): Promise<JobRecord | null> {
    const r = await this.db.query<Row>(
      `UPDATE grove_jobs SET status = 'failed', error = $2, error_code = $3, finished_at = now()
       WHERE id = $1 AND ${ACTIVE} RETURNING *`,
      [jobId, error, code],
    );
    return r.rows[0] ? toJob(r.rows[0]) : null;
  }

  /** Cancels a listed job: the job, or 'finished' if it had ended, or null if there is no such job. */
  async cancel(jobId: string): Promise<JobRecord | 'finished' | null> {
    const r = await this.db.query<Row>(
      `UPDATE grove_jobs SET status = 'cancelled', finished_at = now()
       WHERE id = $1 AND sealed AND ${ACTIVE} RETURNING *`,
      [jobId],
    );
    if (r.rows[0]) return toJob(r.rows[0]);
    return (await this.get(jobId)) ? 'finished' : null;
  }

  /** Deletes what a failed or cancelled job left (results, pending input). */
  async purge(jobId: string): Promise<void> {
    await this.db.query('DELETE FROM grove_job_results WHERE job_id = $1', [jobId]);
    await this.db.query('DELETE FROM grove_job_chunks WHERE job_id = $1', [jobId]);
    this.spool?.removeJob(jobId);
    await this.db.query(
      `UPDATE grove_jobs SET purged = true WHERE id = $1 AND status IN ('failed', 'cancelled')`,
      [jobId],
    );
  }

  /**
   * Housekeeping: deletes uploads whose lease ran out and purges ended jobs not purged yet.
   * `soleOwner` (PGlite: no other process can hold the database) also frees every claim and
   * upload lease first, since whoever held them is gone.
   */
  async sweep(soleOwner: boolean): Promise<void> {
    if (soleOwner) {
      await this.db.query(
        'UPDATE grove_job_chunks SET claim = NULL, lease_until = NULL WHERE claim IS NOT NULL',
      );
      await this.db.query(
        `UPDATE grove_jobs SET upload_lease = now() - interval '1 second' WHERE NOT sealed`,
      );
    }
    const gone = await this.db.query<Row>(
      'SELECT id FROM grove_jobs WHERE NOT sealed AND upload_lease < now()',
    );
    for (const r of gone.rows) await this.abandon(String(r.id));
    const ended = await this.db.query<Row>(
      `SELECT id FROM grove_jobs WHERE status IN ('failed', 'cancelled') AND NOT purged`,
    );
    for (const r of ended.rows) await this.purge(String(r.id));
  }

  async get(jobId: string): Promise<JobRecord | null> {
    const r = await this.db.query<Row>('SELECT * FROM grove_jobs WHERE id = $1 AND sealed', [jobId]);
    return r.rows[0] ? toJob(r.rows[0]) : null;
  }

  /** Newest first. */
  async list(f: ListFilter): Promise<JobRecord[]> {
    const where = ['sealed'];
    const params: unknown[] = [];
    if (f.model !== undefined) where.push(`model = $${params.push(f.model)}`);
    if (f.status !== undefined) where.push(`status = $${params.push(f.status)}`);
    if (f.before !== undefined) where.push(`id < $${params.push(f.before)}`);
    const r = await this.db.query<Row>(
      `SELECT * FROM grove_jobs WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT $${params.push(f.limit)}`,
      params,
    );
    return r.rows.map(toJob);
  }

  async resultsPage(jobId: string, afterRow: number, limit: number): Promise<ResultRow[]> {
    const r = await this.db.query<Row>(
      `SELECT row_no, key, outputs, error, error_code FROM grove_job_results
       WHERE job_id = $1 AND row_no > $2 ORDER BY row_no LIMIT $3`,
      [jobId, afterRow, limit],
    );
    return r.rows.map((x) => ({
      rowNo: Number(x.row_no),
      key: (x.key as string | null) ?? null,
      outputs: x.outputs ? (x.outputs as unknown[]).map(Number) : null,
      error: (x.error as string | null) ?? null,
      errorCode: (x.error_code as string | null) ?? null,
    }));
  }

  /**
   * The prediction for `key` from the latest succeeded job of `model` that scored it; concurrent
   * lookups share statements (key-lookups.ts).
   */
  lookup(model: string, key: string): Promise<StoredPrediction | null> {
    return this.keyLookups.lookup(model, key);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

export type { SqlRunner };
