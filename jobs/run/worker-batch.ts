// Scores rows on the workers over the wire: one `POST /v1/models/{m}/versions/{v}:batch` per call
// (CSV with the job's header, or NDJSON), through the gateway's UpstreamCaller, so the policy picks
// the worker, a dead worker is retried on another and fed to outlier ejection, and the workers'
// thread pools do the parsing and predicting. Answers are read whole: a call carries one chunk.

import type { UpstreamAnswer, UpstreamCaller } from '../../gateway/forward/upstream-call.js';
import { csvLineFields } from '../../shared/csv/index.js';
import { GroveError, UpstreamError } from '../../shared/errors/grove-error.js';
import { parseCsvHeader } from '../input/csv-rows.js';
import type { JobFormat } from '../store/job-store.js';

export type BatchAnswer =
  /** `values[i]`: row i's outputs as `v1,v2,...` (each a number, NaN or +-Infinity). */
  | { kind: 'ok'; values: string[]; outputNames: string[] }
  /** The first `values.length` rows were scored; the next one (or one soon after) was refused. */
  | { kind: 'refused'; values: string[]; message: string; code: string }
  /** Nothing usable: the call may work later or elsewhere. */
  | { kind: 'failed'; error: GroveError };

/** What a worker's CSV answer line may hold: numbers, NaN, Infinity and commas; nothing COPY or an array literal treats specially. */
const VALUES = /^[-+0-9.eE,NaInfity]+$/;

const MEDIA: Record<JobFormat, string> = { csv: 'text/csv', ndjson: 'application/x-ndjson' };

export class WorkerBatch {
  constructor(private readonly caller: UpstreamCaller) {}

  async call(
    model: string,
    version: string,
    format: JobFormat,
    header: string | null,
    rows: readonly string[],
  ): Promise<BatchAnswer> {
    return this.callBody(
      model,
      version,
      format,
      batchBody(format === 'csv' ? header : null, rows),
      rows.length,
    );
  }

  /**
   * Scores `body` (a whole `:batch` body of `rows` rows); `exclude`: a CSV column in it that is
   * not a feature (the job's key column, `:batch?exclude=`).
   */
  async callBody(
    model: string,
    version: string,
    format: JobFormat,
    body: Buffer,
    rows: number,
    exclude: string | null = null,
  ): Promise<BatchAnswer> {
    let path = `/v1/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(version)}:batch`;
    if (exclude !== null) path += `?exclude=${encodeURIComponent(exclude)}`;
    let a: UpstreamAnswer;
    try {
      a = await new Promise<UpstreamAnswer>((resolve, reject) =>
        this.caller.call(
          {
            target: { model, version },
            method: 'POST',
            path,
            headers: ['content-type', MEDIA[format]],
            body,
            weight: 1,
            abandoned: null,
          },
          (err, answer) => (answer ? resolve(answer) : reject(err ?? new UpstreamError('no answer'))),
        ),
      );
    } catch (err) {
      return { kind: 'failed', error: err instanceof GroveError ? err : new UpstreamError(String(err)) };
    }
    if (a.status === 400) {
      const e = errorBody(a.body.toString('utf8'));
      return { kind: 'refused', values: [], message: e.message, code: e.code };
    }
    if (a.status !== 200) {
      const e = errorBody(a.body.toString('utf8'));
      return { kind: 'failed', error: GroveError.fromWire(e.message, e.code) };
    }
    const text = a.body.toString('utf8');
    return format === 'csv' ? parseCsvAnswer(text, rows) : parseNdjsonAnswer(text, rows);
  }
}

/**
 * A call's body: the CSV header line (null for NDJSON) and the rows, one per line. The rows are
 * joined once and written into the buffer beside the header: a chunk is megabytes, and turning
 * `header + rows + '\n'` into bytes would first copy the joined rows again into one string.
 */
export function batchBody(header: string | null, rows: readonly string[]): Buffer {
  const text = rows.join('\n');
  const head = header === null ? 0 : Buffer.byteLength(header) + 1;
  const tail = rows.length > 0 ? 1 : 0;
  const out = Buffer.allocUnsafe(head + Buffer.byteLength(text) + tail);
  let at = 0;
  if (header !== null) {
    at += out.write(header, 0);
    out[at++] = 10;
  }
  at += out.write(text, at);
  if (tail) out[at++] = 10;
  return at === out.length ? out : out.subarray(0, at);
}

function errorBody(text: string): { message: string; code: string } {
  try {
    const j = JSON.parse(text) as { error?: unknown; code?: unknown };
    if (typeof j.error === 'string')
      return { message: j.error, code: typeof j.code === 'string' ? j.code : 'GROVE_ERR_UPSTREAM' };
  } catch {
    // not JSON
  }
  return { message: 'a worker gave an unreadable answer', code: 'GROVE_ERR_UPSTREAM' };
}

function answerLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function mismatch(got: number, sent: number): BatchAnswer {
  return { kind: 'failed', error: new UpstreamError(`a worker answered ${got} rows for ${sent}`) };
}

/** `header\nv,v\n...`, possibly ending in `#error,CODE,message` (the worker's mid-stream failure). */
export function parseCsvAnswer(text: string, sent: number): BatchAnswer {
  try {
    return csvAnswer(text, sent);
  } catch (err) {
    // The worker's CSV could not be read (bad quoting): its fault, not the job's rows'.
    if (!(err instanceof GroveError)) throw err;
    return { kind: 'failed', error: new UpstreamError(`a worker's CSV answer: ${err.message}`) };
  }
}

function csvAnswer(text: string, sent: number): BatchAnswer {
  const lines = answerLines(text);
  const outputNames = lines.length > 0 ? parseCsvHeader(lines[0]!) : [];
  const values: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!;
    if (VALUES.test(l)) {
      values.push(l);
      continue;
    }
    if (l.startsWith('#error,') && i === lines.length - 1) {
      const f = csvLineFields(l);
      return { kind: 'refused', values, message: f.slice(2).join(','), code: f[1] ?? 'GROVE_ERR_BAD_INPUT' };
    }
    return { kind: 'failed', error: new UpstreamError('a worker answered a row that is not numbers') };
  }
  return values.length === sent ? { kind: 'ok', values, outputNames } : mismatch(values.length, sent);
}

/** One `{"name": value, ...}` per row; a last `{"error", "code"}` line is a mid-stream failure. */
export function parseNdjsonAnswer(text: string, sent: number): BatchAnswer {
  const lines = answerLines(text);
  const values: string[] = [];
  let outputNames: string[] | null = null;
  for (let i = 0; i < lines.length; i++) {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(lines[i]!) as Record<string, unknown>;
    } catch {
      return { kind: 'failed', error: new UpstreamError('a worker answered a line that is not JSON') };
    }
    if (typeof o.error === 'string' && typeof o.code === 'string' && i === lines.length - 1)
      return { kind: 'refused', values, message: o.error, code: o.code };
    outputNames ??= Object.keys(o);
    let s = '';
    for (let k = 0; k < outputNames.length; k++) {
      const v = o[outputNames[k]!];
      if (typeof v !== 'number' && v !== null)
        return { kind: 'failed', error: new UpstreamError('a worker answered a value that is not a number') };
      s += (k ? ',' : '') + (v === null ? 'NaN' : String(v));
    }
    values.push(s);
  }
  return values.length === sent
    ? { kind: 'ok', values, outputNames: outputNames ?? [] }
    : mismatch(values.length, sent);
}
