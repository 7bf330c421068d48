// POST /v1/models/{m}[/versions/{v}]/jobs (docs/jobs.md): the body (CSV with a header row, or
// NDJSON) is streamed into the store chunk by chunk as it arrives, never held whole, and the runner
// may start scoring the first chunks before the upload ends. The version is fixed here (the
// model's split picks it when the URL names none). A CSV header is checked by a worker before
// anything is stored, so a misnamed column is a 400 that changes nothing; an upload that breaks off
// or passes --max-job-bytes is deleted.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import {
  BadInputError,
  BodyTooLargeError,
  GroveError,
  UnsupportedMediaTypeError,
} from '../../shared/errors/grove-error.js';
import { NodeReply, replyError, replyJson } from '../../shared/http/reply.js';
import { Chunker } from '../input/chunker.js';
import { joinCsv, parseCsvHeader } from '../input/csv-rows.js';
import { LineSplitter } from '../input/line-splitter.js';
import { checkNotifyUrl } from '../notify/notify-guard.js';
import type { WorkerBatch } from '../run/worker-batch.js';
import type { JobFormat, JobRecord, OnError } from '../store/job-store.js';
import type { JobStoreApi } from '../store/store-api.js';
import { publicJson } from './job-json.js';

export interface SubmitContext {
  store: JobStoreApi;
  batch: WorkerBatch;
  chooseVersion(
    headers: IncomingHttpHeaders,
    model: string,
    version: string | undefined,
  ): string | GroveError;
  maxJobBytes: number;
  chunkRows: number;
  chunkChars: number;
  uploadLeaseS: number;
  notifyPrivate: boolean;
  /** A chunk was stored: the runner may start on it. */
  wake(): void;
  ended(job: JobRecord): void;
}

export function jobFormatOf(contentType: string | undefined): JobFormat {
  const t = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (t === 'text/csv' || t === 'application/csv') return 'csv';
  if (
    ['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/jsonlines'].includes(t)
  )
    return 'ndjson';
  throw new UnsupportedMediaTypeError(t || '(none)');
}

interface JobParams {
  key: string | null;
  onError: OnError;
  notify: string | null;
}

function jobParams(query: URLSearchParams, notifyPrivate: boolean): JobParams {
  for (const k of query.keys()) {
    if (k !== 'key' && k !== 'on_error' && k !== 'notify')
      throw new BadInputError(`unknown job parameter '${k}'`);
  }
  const key = query.get('key');
  if (key !== null && (key.trim() === '' || key.length > 256))
    throw new BadInputError('key must name a column');
  const onError = query.get('on_error') ?? 'fail';
  if (onError !== 'fail' && onError !== 'skip') throw new BadInputError("on_error must be 'fail' or 'skip'");
  const notify = query.get('notify');
  return {
    key: key?.trim() ?? null,
    onError,
    notify: notify === null ? null : checkNotifyUrl(notify, notifyPrivate),
  };
}

/** Answers without reading the rest of the body: the connection closes. */
function refuse(res: ServerResponse, err: unknown, requestId: string): void {
  if (res.headersSent) return;
  res.shouldKeepAlive = false;
  replyError(new NodeReply(res), err, requestId);
}

export async function submitJob(
  ctx: SubmitContext,
  req: IncomingMessage,
  res: ServerResponse,
  model: string,
  explicit: string | undefined,
  query: URLSearchParams,
  requestId: string,
): Promise<void> {
  let format: JobFormat;
  let params: JobParams;
  try {
    format = jobFormatOf(req.headers['content-type']);
    params = jobParams(query, ctx.notifyPrivate);
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > ctx.maxJobBytes) throw new BodyTooLargeError(ctx.maxJobBytes);
  } catch (err) {
    refuse(res, err, requestId);
    return;
  }
  const version = ctx.chooseVersion(req.headers, model, explicit);
  if (typeof version !== 'string') {
    refuse(res, version, requestId);
    return;
  }
  const upload = new Upload(ctx, model, version, format, params);
  try {
    const job = await upload.run(req);
    const headers = ['location', `/v1/jobs/${job.id}`];
    if (!req.complete) res.shouldKeepAlive = false;
    replyJson(new NodeReply(res), 202, publicJson(job), requestId, headers);
  } catch (err) {
    await upload.abandon();
    if (!req.complete) req.resume();
    refuse(res, err, requestId);
  }
}

class Upload {
  private jobId: string | null = null;
  private chunker: Chunker | null = null;
  private bytes = 0;
  private renewTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ctx: SubmitContext,
    private readonly model: string,
    private readonly version: string,
    private readonly format: JobFormat,
    private readonly p: JobParams,
  ) {}

  /** Reads and stores the whole upload; the sealed job (or the job that failed meanwhile). */
  async run(req: IncomingMessage): Promise<JobRecord> {
    const splitter = new LineSplitter();
    if (this.format === 'ndjson') await this.create(null, -1);
    let ended: JobRecord | null = null;
    try {
      for await (const buf of req as AsyncIterable<Buffer>) {
        this.bytes += buf.length;
        if (this.bytes > this.ctx.maxJobBytes) throw new BodyTooLargeError(this.ctx.maxJobBytes);
        ended = await this.lines(splitter.push(buf));
        if (ended) break;
      }
      if (!ended) ended = await this.lines(splitter.end());
    } finally {
      if (this.renewTimer) clearInterval(this.renewTimer);
    }
    if (this.chunker === null) throw new BadInputError('CSV body has no header row', 'GROVE_ERR_BAD_CSV');
    if (!ended && !(await this.flush())) ended = await this.ctx.store.get(this.jobId!);
    const c = this.chunker;
    const sealed = await this.ctx.store.seal(this.jobId!, c.rows, c.chunks, this.bytes);
    if (sealed?.status === 'succeeded') this.ctx.ended(sealed);
    return sealed ?? ended ?? (await this.ctx.store.get(this.jobId!))!;
  }

  /** Takes lines; a job that ended meanwhile (failed, cancelled) stops the upload. */
  private async lines(lines: string[]): Promise<JobRecord | null> {
    for (const line of lines) {
      if (this.chunker === null) {
        if (line.length > 0) await this.header(line);
        continue;
      }
      if (!this.chunker.add(line)) continue;
      if (this.chunker.failure) return this.failRow();
      if (!(await this.flush())) return this.ctx.store.get(this.jobId!);
    }
    if (this.chunker?.failure) return this.failRow();
    return null;
  }

  private async failRow(): Promise<JobRecord | null> {
    const f = this.chunker!.failure!;
    const job = await this.ctx.store.fail(this.jobId!, f.message, f.code);
    if (job) this.ctx.ended(job);
    await this.ctx.store.purge(this.jobId!);
    return job ?? this.ctx.store.get(this.jobId!);
  }

  private async flush(): Promise<boolean> {
    const c = this.chunker!.take();
    if (!c) return true;
    const ok = await this.ctx.store.appendChunk(this.jobId!, c, this.ctx.uploadLeaseS);
    this.ctx.wake();
    return ok;
  }

  private async header(line: string): Promise<void> {
    const names = parseCsvHeader(line);
    const seen = new Set<string>();
    for (const n of names) {
      if (seen.has(n)) throw new BadInputError(`CSV header repeats column '${n}'`, 'GROVE_ERR_BAD_CSV');
      seen.add(n);
    }
    let keyIndex = -1;
    if (this.p.key !== null) {
      keyIndex = names.indexOf(this.p.key);
      if (keyIndex < 0)
        throw new BadInputError(
          `the CSV has no key column '${this.p.key}' (columns: ${names.slice(0, 20).join(', ')})`,
          'GROVE_ERR_BAD_CSV',
        );
      if (names.length < 2)
        throw new BadInputError('the CSV has no feature column besides the key', 'GROVE_ERR_BAD_CSV');
    }
    const features = joinCsv(keyIndex < 0 ? names : names.filter((_, i) => i !== keyIndex));
    // The workers judge the header (unknown features are a 400) before anything is stored; with no
    // worker up, the job is still taken and its chunks wait for one.
    const check = await this.ctx.batch.call(this.model, this.version, 'csv', features, []);
    if (check.kind === 'refused') throw GroveError.fromWire(check.message, check.code);
    await this.create(features, keyIndex);
  }

  private async create(header: string | null, keyIndex: number): Promise<void> {
    const job = await this.ctx.store.createJob(
      {
        model: this.model,
        version: this.version,
        format: this.format,
        header,
        keyColumn: this.p.key,
        onError: this.p.onError,
        notifyUrl: this.p.notify,
      },
      this.ctx.uploadLeaseS,
    );
    this.jobId = job.id;
    this.chunker = new Chunker({
      jobId: job.id,
      format: this.format,
      keyColumn: this.p.key,
      keyIndex,
      onError: this.p.onError,
      chunkRows: this.ctx.chunkRows,
      chunkChars: this.ctx.chunkChars,
    });
    // A slow client must not lose its upload to another gateway's sweep.
    this.renewTimer = setInterval(
      () => void this.ctx.store.renewUpload(job.id, this.ctx.uploadLeaseS).catch(() => {}),
      (this.ctx.uploadLeaseS * 1000) / 3,
    );
    this.renewTimer.unref();
  }

  async abandon(): Promise<void> {
    if (this.jobId !== null) await this.ctx.store.abandon(this.jobId).catch(() => {});
  }
}
