// A stored chunk made ready for the workers when it is scored. The upload stores the input's own
// lines (chunk-cutter.ts); here, once per chunk and on the gateway that scores it, its lines are
// read, each row's key is taken out and checked (chunker.ts), and the CSV header the workers get
// is the uploaded one without the key column. Rows the upload refused (their offsets in `skip`)
// keep their numbers.
import type { ChunkIn, ClaimedChunk } from '../store/job-store.js';
import { Chunker, type RowFailure } from './chunker.js';
import { joinCsv, parseCsvHeader } from './csv-rows.js';

export interface ReadyChunk {
  /** The rows as the workers get them, with their keys, refused rows and error rows. */
  chunk: ChunkIn;
  lines: string[];
  /** The header the workers get (CSV). */
  header: string | null;
  /** With on_error=fail: the first row refused here. */
  failure: RowFailure | null;
}

/**
 * The uploaded header (`names`) split into the key column's index and the header the workers get.
 * A job stored before uploads kept raw lines has its header without the key column already.
 */
export function workerHeader(header: string, keyColumn: string | null): { header: string; keyIndex: number } {
  if (keyColumn === null) return { header, keyIndex: -1 };
  const names = parseCsvHeader(header);
  const keyIndex = names.indexOf(keyColumn);
  if (keyIndex < 0) return { header, keyIndex };
  return { header: joinCsv(names.filter((_, i) => i !== keyIndex)), keyIndex };
}

/** Reads a raw chunk (its body is the uploaded lines: no `keys`). */
export function readRawChunk(c: ClaimedChunk, keyColumn: string | null): ReadyChunk {
  let header = c.header;
  let keyIndex = -1;
  if (c.format === 'csv' && header !== null) ({ header, keyIndex } = workerHeader(header, keyColumn));
  const chunker = new Chunker({
    jobId: c.jobId,
    format: c.format,
    keyColumn,
    keyIndex,
    onError: c.onError,
    chunkRows: Number.POSITIVE_INFINITY,
    chunkChars: Number.POSITIVE_INFINITY,
    firstRow: c.firstRow,
  });
  const skip = c.skip ?? [];
  let next = 0; // the next refused offset in `skip`
  let offset = 0; // rows of the chunk seen
  const passRefused = () => {
    while (next < skip.length && skip[next] === offset) {
      chunker.skipRow();
      next++;
      offset++;
    }
  };
  const body = c.body;
  const cr = body.indexOf('\r') !== -1;
  let start = 0;
  while (start < body.length && chunker.failure === null) {
    let nl = body.indexOf('\n', start);
    if (nl === -1) nl = body.length;
    let end = nl;
    if (cr && end > start && body.charCodeAt(end - 1) === 13) end--;
    if (end > start) {
      passRefused();
      chunker.add(body.slice(start, end));
      offset++;
    }
    start = nl + 1;
  }
  passRefused();
  const t = chunker.takeLines();
  const chunk: ChunkIn = t?.chunk ?? {
    seq: c.seq,
    firstRow: c.firstRow,
    rowCount: 0,
    body: '',
    keys: keyColumn === null ? null : [],
    skip: null,
    errorRows: '',
  };
  if (chunker.failure === null && chunk.rowCount !== c.rowCount)
    throw new Error(`chunk ${c.seq} of job ${c.jobId} holds ${chunk.rowCount} rows, not ${c.rowCount}`);
  return { chunk, lines: t?.lines ?? [], header, failure: chunker.failure };
}
