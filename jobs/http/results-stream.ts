// GET /v1/jobs/{id}/results (docs/jobs.md): a succeeded job's rows in input order, streamed page by
// page from the store with backpressure, as CSV (the key column first when the job has one, then
// the outputs as `:batch` names and writes them; with on_error=skip a last `error` column) or, when
// Accept asks for it, NDJSON. Only a succeeded job has results: nothing half-written is served.
import type { ServerResponse } from 'node:http';
import { GroveError } from '../../shared/errors/grove-error.js';
import { csvField } from '../input/csv-rows.js';
import { keyCsv } from '../input/row-key.js';
import type { JobRecord, ResultRow } from '../store/job-store.js';
import type { JobStoreApi } from '../store/store-api.js';

const PAGE = 5000;

export function wantsNdjson(accept: string | undefined, format: string | null): boolean {
  if (format !== null) return format === 'ndjson';
  return /application\/(x-)?ndjson|application\/jsonl/i.test(accept ?? '');
}

export function notSucceeded(job: JobRecord): GroveError {
  const why = job.status === 'failed' ? ` (it failed: ${job.error})` : '';
  return new GroveError(
    `job ${job.id} is ${job.status}${why}; results exist once it has succeeded`,
    'GROVE_ERR_JOB_NOT_SUCCEEDED',
  );
}

function csvRow(job: JobRecord, r: ResultRow, width: number, skip: boolean): string {
  let s = job.keyColumn === null ? '' : keyCsv(r.key) + ',';
  if (r.outputs) s += r.outputs.map(String).join(',');
  else s += ','.repeat(Math.max(0, width - 1));
  if (skip) s += ',' + (r.error === null ? '' : csvField(`${r.errorCode}: ${r.error}`));
  return s + '\n';
}

function jsonValue(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function ndjsonRow(job: JobRecord, names: string[], r: ResultRow): string {
  const o: Record<string, unknown> = {};
  if (job.keyColumn !== null) o[job.keyColumn] = r.key;
  if (r.outputs) for (let k = 0; k < names.length; k++) o[names[k]!] = jsonValue(r.outputs[k]!);
  else {
    o.error = r.error;
    o.code = r.errorCode;
  }
  return JSON.stringify(o) + '\n';
}

export async function streamResults(
  store: JobStoreApi,
  job: JobRecord,
  res: ServerResponse,
  ndjson: boolean,
  requestId: string,
): Promise<void> {
  const names = job.outputNames ?? [];
  const skip = job.onError === 'skip';
  res.writeHead(200, [
    'content-type',
    ndjson ? 'application/x-ndjson' : 'text/csv; charset=utf-8',
    'x-request-id',
    requestId,
    'x-grove-model',
    job.model,
    'x-grove-model-version',
    job.version,
  ]);
  if (!ndjson) {
    const head = [...(job.keyColumn === null ? [] : [job.keyColumn]), ...names, ...(skip ? ['error'] : [])];
    res.write(head.map(csvField).join(',') + '\n');
  }
  let after = 0;
  for (;;) {
    const page = await store.resultsPage(job.id, after, PAGE);
    if (res.destroyed) return;
    let text = '';
    for (const r of page) text += ndjson ? ndjsonRow(job, names, r) : csvRow(job, r, names.length, skip);
    if (page.length > 0) after = page[page.length - 1]!.rowNo;
    if (page.length < PAGE) {
      res.end(text);
      return;
    }
    if (!res.write(text)) await drained(res);
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
