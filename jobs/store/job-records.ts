// The shapes of the job machinery's records (docs/jobs.md): a job, a chunk of its input as stored
// and as claimed, a result row, a stored prediction, list filters; and the decoding of a jobs table
// row into a JobRecord. The statements that read and write them are in job-store.ts.

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type JobFormat = 'csv' | 'ndjson';
export type OnError = 'fail' | 'skip';

export interface JobRecord {
  id: string;
  model: string;
  version: string;
  status: JobStatus;
  sealed: boolean;
  format: JobFormat;
  header: string | null;
  keyColumn: string | null;
  onError: OnError;
  notifyUrl: string | null;
  outputNames: string[] | null;
  rowsTotal: number | null;
  rowsDone: number;
  rowsFailed: number;
  chunksTotal: number | null;
  chunksDone: number;
  inputBytes: number;
  error: string | null;
  errorCode: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface NewJob {
  model: string;
  version: string;
  format: JobFormat;
  header: string | null;
  keyColumn: string | null;
  onError: OnError;
  notifyUrl: string | null;
}

/**
 * A chunk of input as stored. Two layouts: raw (`keys` null), the uploaded lines as they came,
 * key column and blank lines included, read when scored (input/raw-chunk.ts); and, from uploads
 * made before, the lines as the workers get them with the keys taken out into `keys`.
 */
export interface ChunkIn {
  seq: number;
  firstRow: number;
  rowCount: number;
  /** Text, or its UTF-8 bytes. */
  body: string | Uint8Array;
  keys: string[] | null;
  /** Offsets of rows refused at intake ... */
  skip: number[] | null;
  /** ... and their error rows for grove_job_results, in COPY text. */
  errorRows: string;
}

/** Chunks whose bodies the claimer holds (its own uploads): a claim does not read those back. */
export interface HeldChunks {
  jobIds: string[];
  seqs: number[];
}

export interface ClaimedChunk {
  jobId: string;
  seq: number;
  firstRow: number;
  rowCount: number;
  /** The rows; '' when `bodyHeld`. */
  body: string;
  /** The claimer said it holds this chunk's body (HeldChunks), so it was not read back. */
  bodyHeld?: boolean;
  keys: string[] | null;
  skip: number[] | null;
  attempts: number;
  lastError: string | null;
  lastErrorCode: string | null;
  model: string;
  version: string;
  format: JobFormat;
  header: string | null;
  onError: OnError;
  keyColumn?: string | null;
}

export interface ResultRow {
  rowNo: number;
  key: string | null;
  outputs: number[] | null;
  error: string | null;
  errorCode: string | null;
}

export interface StoredPrediction {
  jobId: string;
  version: string;
  outputNames: string[];
  outputs: number[];
  scoredAt: string;
}

export interface ListFilter {
  model?: string;
  status?: JobStatus;
  /** Jobs with a smaller id (the next page). */
  before?: string;
  limit: number;
}

/** A row as the database driver returns it. */
export type Row = Record<string, unknown>;

/** A timestamp column as ISO 8601 (drivers return a Date or a string), null when empty. */
export function iso(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return (v instanceof Date ? v : new Date(String(v))).toISOString();
}

function num(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

export function toJob(r: Row): JobRecord {
  return {
    id: String(r.id),
    model: r.model as string,
    version: r.version as string,
    status: r.status as JobStatus,
    sealed: r.sealed === true,
    format: r.format as JobFormat,
    header: (r.header as string | null) ?? null,
    keyColumn: (r.key_column as string | null) ?? null,
    onError: r.on_error as OnError,
    notifyUrl: (r.notify_url as string | null) ?? null,
    outputNames: (r.output_names as string[] | null) ?? null,
    rowsTotal: num(r.rows_total),
    rowsDone: Number(r.rows_done),
    rowsFailed: Number(r.rows_failed),
    chunksTotal: num(r.chunks_total),
    chunksDone: Number(r.chunks_done),
    inputBytes: Number(r.input_bytes),
    error: (r.error as string | null) ?? null,
    errorCode: (r.error_code as string | null) ?? null,
    createdAt: iso(r.created_at)!,
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
  };
}

/** A claim's row (chunk and job columns, the body already read or null when held). */
export function toClaimedChunk(c: Row): ClaimedChunk {
  return {
    jobId: String(c.job_id),
    seq: Number(c.seq),
    firstRow: Number(c.first_row),
    rowCount: Number(c.row_count),
    body: (c.body as string | null) ?? '',
    bodyHeld: c.held === true,
    keys: (c.keys as string[] | null) ?? null,
    skip: c.skip ? (c.skip as unknown[]).map(Number) : null,
    attempts: Number(c.attempts),
    lastError: (c.last_error as string | null) ?? null,
    lastErrorCode: (c.last_error_code as string | null) ?? null,
    model: c.model as string,
    version: c.version as string,
    format: c.format as JobFormat,
    header: (c.header as string | null) ?? null,
    onError: c.on_error as OnError,
    keyColumn: (c.key_column as string | null) ?? null,
  };
}
