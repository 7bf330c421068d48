// Scores one claimed chunk on the workers and turns the answers into the chunk's result rows
// (COPY text for grove_job_results). When a worker refuses the chunk (400: a malformed row), the
// refused rows are found by splitting the rows in halves and sending each half again, so the
// workers stay the only judges of what a valid row is and every other row is still scored; rows a
// worker scored before failing mid-stream are kept, not sent again.
import { type GroveError, UpstreamError } from '../../shared/errors/grove-error.js';
import { COPY_NULL, copyValue } from '../store/copy-text.js';
import type { ClaimedChunk } from '../store/job-store.js';
import type { WorkerBatch } from './worker-batch.js';

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
function rowMessage(message: string): string {
  return message.replace(/^(CSV|NDJSON) line \d+:?\s*/, '');
}

/** The row numbers of a chunk's body lines (rows refused at intake are not in the body). */
export function bodyRowNumbers(c: Pick<ClaimedChunk, 'firstRow' | 'rowCount' | 'skip'>): number[] {
  const skip = new Set(c.skip ?? []);
  const out: number[] = [];
  for (let i = 0; i < c.rowCount; i++) if (!skip.has(i)) out.push(c.firstRow + i);
  return out;
}

export async function scoreChunk(batch: WorkerBatch, c: ClaimedChunk): Promise<ScoredChunk> {
  const rowNos = bodyRowNumbers(c);
  const lines = rowNos.length === 0 ? [] : c.body.split('\n');
  if (lines.length !== rowNos.length) throw new Error(`chunk ${c.seq} of job ${c.jobId} is inconsistent`);
  const values: (string | null)[] = new Array(lines.length).fill(null);
  const errors: ({ message: string; code: string } | null)[] = new Array(lines.length).fill(null);
  let outputNames: string[] | null = null;
  let failed = 0;
  const stopAtFirst = c.onError === 'fail';

  const solve = async (lo: number, hi: number): Promise<void> => {
    while (lo < hi) {
      const a = await batch.call(c.model, c.version, c.format, c.header, lines.slice(lo, hi));
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
  await solve(0, lines.length);

  const keys = c.keys;
  let copy = '';
  const job = c.jobId;
  for (let i = 0; i < lines.length; i++) {
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
