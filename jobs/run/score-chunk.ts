// Scores one claimed chunk on the workers and turns the answers into the chunk's result rows
// (COPY text for grove_job_results). When a worker refuses the chunk (400: a malformed row), the
// refused rows are found by splitting the rows in halves and sending each half again, so the
// workers stay the only judges of what a valid row is and every other row is still scored; rows a
// worker scored before failing mid-stream are kept, not sent again.
import { type GroveError, UpstreamError } from '../../shared/errors/grove-error.js';
import { byteRowsBody, csvByteRows } from '../input/csv-byte-rows.js';
import { parseCsvHeader } from '../input/csv-rows.js';
import { readRawChunk } from '../input/raw-chunk.js';
import { COPY_NULL, copyValue } from '../store/copy-text.js';
import type { ClaimedChunk } from '../store/job-store.js';
import type { BatchAnswer, WorkerBatch } from './worker-batch.js';

export interface ScoredChunk {
  /** The chunk's rows for grove_job_results, in COPY text. */
  copy: string;
  rows: number;
  failed: number;
  outputNames: string[] | null;
}

/** A refused row in a job that fails on the first one. */
export class RowRefused extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** The chunk could not be scored now (no worker, a worker failed); it may work later. */
export class ChunkNotScored extends Error {
  constructor(readonly error: GroveError) {
    super(error.message);
  }
}

/** The worker's own line number means nothing to the job (it counts lines of one call): drop it. */
// It leads the message ("CSV line 3: ...") or says where a value was ("value 'x' at CSV line 3,
// column 'f1' is not a number" -> "value 'x' at column 'f1' is not a number").
function rowMessage(message: string): string {
  return message
    .replace(/^(CSV|NDJSON) line \d+:?\s*/, '')
    .replace(/ at (?:CSV|NDJSON) line \d+(, | )/, (_, sep: string) => (sep === ' ' ? ' ' : ' at '));
}

/** The row numbers of a chunk's body lines (rows refused at intake are not in the body). */
export function bodyRowNumbers(c: Pick<ClaimedChunk, 'firstRow' | 'rowCount' | 'skip'>): number[] {
  const skip = new Set(c.skip ?? []);
  const out: number[] = [];
  for (let i = 0; i < c.rowCount; i++) if (!skip.has(i)) out.push(c.firstRow + i);
  return out;
}

/**
 * Scores a chunk as it was stored: a raw chunk (the uploaded lines; no `keys`) is read first, from
 * its bytes when it can be (csv-byte-rows.ts; `bytes`: the body as this gateway holds it, else its
 * text is encoded), otherwise as text (raw-chunk.ts), and the error rows of keys refused then are
 * stored with its results.
 */
export async function scoreStoredChunk(
  batch: WorkerBatch,
  c: ClaimedChunk,
  bytes?: Uint8Array,
): Promise<ScoredChunk> {
  if (c.keys !== null) return scoreChunk(batch, c);
  const keyColumn = c.keyColumn ?? null;
  if (c.format === 'csv' && c.header !== null && c.skip === null) {
    const body = bytes ?? Buffer.from(c.body, 'utf8');
    const scored = scoreBytes(batch, c, keyColumn, body);
    if (scored !== null) return scored;
    if (bytes !== undefined)
      c.body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  } else if (bytes !== undefined) {
    c.body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  }
  const ready = readRawChunk(c, keyColumn);
  if (ready.failure) throw new RowRefused(ready.failure.message, ready.failure.code);
  const { rowCount, keys, skip, errorRows } = ready.chunk;
  const scored = await scoreChunk(batch, { ...c, header: ready.header, rowCount, keys, skip }, ready.lines);
  scored.copy += errorRows;
  return scored;
}

/** The byte way (csv-byte-rows.ts), or null when the chunk needs the text way. */
function scoreBytes(
  batch: WorkerBatch,
  c: ClaimedChunk,
  keyColumn: string | null,
  body: Uint8Array,
): Promise<ScoredChunk> | null {
  let keyIndex = -1;
  if (keyColumn !== null) {
    const names = parseCsvHeader(c.header!);
    keyIndex = names.indexOf(keyColumn);
    // Not there (a job stored with the key column already out) or named twice: the text way.
    if (keyIndex < 0 || names.lastIndexOf(keyColumn) !== keyIndex) return null;
  }
  const rows = csvByteRows(body, keyIndex, keyColumn ?? '', c.rowCount);
  if (rows === null) return null;
  const header = Buffer.from(`${c.header}\n`, 'utf8');
  return scoreRows({ ...c, keys: rows.keys }, rows.count, (lo, hi) =>
    batch.callBody(c.model, c.version, 'csv', byteRowsBody(header, body, rows, lo, hi), hi - lo, keyColumn),
  );
}

/** `lines`: the body already split into its lines. */
export async function scoreChunk(
  batch: WorkerBatch,
  c: ClaimedChunk,
  bodyLines?: string[],
): Promise<ScoredChunk> {
  const lines = bodyLines ?? (bodyRowNumbers(c).length === 0 ? [] : c.body.split('\n'));
  return scoreRows(c, lines.length, (lo, hi) =>
    batch.call(c.model, c.version, c.format, c.header, lines.slice(lo, hi)),
  );
}

/**
 * Scores a chunk's `count` body rows, `send(lo, hi)` sending rows [lo, hi) to the workers, and
 * finds refused rows by halves; returns the chunk's result rows.
 */
async function scoreRows(
  c: ClaimedChunk,
  count: number,
  send: (lo: number, hi: number) => Promise<BatchAnswer>,
): Promise<ScoredChunk> {
  const rowNos = bodyRowNumbers(c);
  if (count !== rowNos.length) throw new Error(`chunk ${c.seq} of job ${c.jobId} is inconsistent`);
  const values: (string | null)[] = new Array(count).fill(null);
  const errors: ({ message: string; code: string } | null)[] = new Array(count).fill(null);
  let outputNames: string[] | null = null;
  let failed = 0;
  const stopAtFirst = c.onError === 'fail';

  const solve = async (lo: number, hi: number): Promise<void> => {
    while (lo < hi) {
      const a = await send(lo, hi);
      if (a.kind === 'failed') throw new ChunkNotScored(a.error);
      for (let i = 0; i < a.values.length; i++) values[lo + i] = a.values[i]!;
      if (a.kind === 'ok') {
        if (a.outputNames.length > 0) outputNames ??= a.outputNames;
        return;
      }
      lo += a.values.length;
      if (lo >= hi) throw new ChunkNotScored(new UpstreamError('a worker refused rows it had answered'));
      if (hi - lo === 1) {
        const e = { message: rowMessage(a.message), code: a.code };
        if (stopAtFirst) throw new RowRefused(`row ${rowNos[lo]}: ${e.message}`, e.code);
        errors[lo] = e;
        failed++;
        return;
      }
      const mid = lo + ((hi - lo) >> 1);
      await solve(lo, mid);
      lo = mid;
    }
  };
  await solve(0, count);

  const keys = c.keys;
  let copy = '';
  const job = c.jobId;
  for (let i = 0; i < count; i++) {
    const key = keys === null ? COPY_NULL : copyValue(keys[i]!);
    const v = values[i];
    if (v !== null) copy += `${job}\t${rowNos[i]}\t${key}\t{${v}}\t${COPY_NULL}\t${COPY_NULL}\n`;
    else {
      const e = errors[i]!;
      copy += `${job}\t${rowNos[i]}\t${key}\t${COPY_NULL}\t${copyValue(e.message)}\t${copyValue(e.code)}\n`;
    }
  }
  return { copy, rows: c.rowCount, failed: failed + (c.skip?.length ?? 0), outputNames };
}
