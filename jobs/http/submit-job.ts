// POST /v1/models/{m}[/versions/{v}]/jobs (docs/jobs.md): the body (CSV with a header row, or
// NDJSON) is streamed into the store chunk by chunk as it arrives, never held whole, and the runner
// may start scoring the first chunks before the upload ends. The version is fixed here (the
// model's split picks it when the URL names none). A CSV header is checked by a worker before
// anything is stored, so a misnamed column is a 400 that changes nothing; an upload that breaks off
// or passes --max-job-bytes is deleted.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { GroveErrorCode } from '../../shared/errors/catalogue.js';
import {
  BadInputError,
  BodyTooLargeError,
  GroveError,
  UnsupportedMediaTypeError,
} from '../../shared/errors/grove-error.js';
import { NodeReply, replyError, replyJson } from '../../shared/http/reply.js';
import { ChunkCutter, type RawChunk } from '../input/chunk-cutter.js';
import { joinCsv, parseCsvHeader } from '../input/csv-rows.js';
import { workerHeader } from '../input/raw-chunk.js';
import { checkNotifyUrl } from '../notify/notify-guard.js';
import type { HeldBodies } from '../run/held-bodies.js';
import type { WorkerBatch } from '../run/worker-batch.js';
import { copyValue } from '../store/copy-text.js';
import type { ChunkIn, JobFormat, JobRecord, OnError } from '../store/job-store.js';
import type { JobStoreApi } from '../store/store-api.js';
import { publicJson } from './job-json.js';

/** The code of rows refused at upload (a NUL byte, which database text cannot hold). */
const REFUSED_CODE: GroveErrorCode = 'GROVE_ERR_BAD_INPUT';

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
  /** Bodies of the chunks stored here, kept for this gateway's claims (run/held-bodies.ts). */
  held?: HeldBodies;
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

/** Chunk inserts an upload keeps in flight while it reads on: the reading waits for the store only when it is this far behind. */
const APPENDS_IN_FLIGHT = 2;

class Upload {
  private jobId: string | null = null;
  private bytes = 0;
  private renewTimer: NodeJS.Timeout | null = null;
  private readonly cutter: ChunkCutter;
  private readonly appends: Promise<boolean>[] = [];
  private headerDone: boolean;

  constructor(
    private readonly ctx: SubmitContext,
    private readonly model: string,
    private readonly version: string,
    private readonly format: JobFormat,
    private readonly p: JobParams,
  ) {
    this.cutter = new ChunkCutter({
      header: format === 'csv',
      chunkRows: ctx.chunkRows,
      chunkBytes: ctx.chunkChars,
    });
    this.headerDone = format !== 'csv';
  }

  /** Reads and stores the whole upload; the sealed job (or the job that failed meanwhile). */
  async run(req: IncomingMessage): Promise<JobRecord> {
    if (this.format === 'ndjson') await this.create(null);
    let ended: JobRecord | null = null;
    try {
      for await (const buf of req as AsyncIterable<Buffer>) {
        this.bytes += buf.length;
        if (this.bytes > this.ctx.maxJobBytes) throw new BodyTooLargeError(this.ctx.maxJobBytes);
        ended = await this.store(this.cutter.push(buf));
        if (ended) break;
      }
      if (!ended) ended = await this.store(this.cutter.end());
      if (!ended && this.jobId !== null) ended = await this.drain(0);
    } finally {
      if (this.renewTimer) clearInterval(this.renewTimer);
      // Nothing may still be writing when the upload is sealed or abandoned.
      await Promise.allSettled(this.appends);
    }
    if (this.jobId === null) throw new BadInputError('CSV body has no header row', 'GROVE_ERR_BAD_CSV');
    const c = this.cutter;
    const sealed = await this.ctx.store.seal(this.jobId, c.rows, c.chunks, this.bytes);
    if (sealed?.status === 'succeeded') this.ctx.ended(sealed);
    return sealed ?? ended ?? (await this.ctx.store.get(this.jobId))!;
  }

  /** Stores chunks; a job that ended meanwhile (failed, cancelled) stops the upload. */
  private async store(chunks: RawChunk[]): Promise<JobRecord | null> {
    if (!this.headerDone && this.cutter.header !== null) {
      this.headerDone = true;
      await this.header(this.cutter.header);
    }
    for (const chunk of chunks) {
      if (chunk.skip !== null && this.p.onError === 'fail') {
        const row = chunk.firstRow + chunk.skip[0]!;
        return this.failRow(`row ${row}: ${chunk.refused[0]}`, REFUSED_CODE);
      }
      const ended = await this.drain(APPENDS_IN_FLIGHT - 1);
      if (ended) return ended;
      const p = this.ctx.store.appendChunk(this.jobId!, this.chunkIn(chunk), this.ctx.uploadLeaseS);
      const jobId = this.jobId!;
      p.then(
        (stored) => {
          if (stored) this.ctx.held?.put(jobId, chunk.seq, chunk.body);
          this.ctx.wake();
        },
        () => {},
      );
      this.appends.push(p);
    }
    return null;
  }

  /** Waits until at most `left` chunk inserts are in flight; the job, if one found it had ended. */
  private async drain(left: number): Promise<JobRecord | null> {
    while (this.appends.length > left) {
      if (!(await this.appends.shift()!)) return this.ctx.store.get(this.jobId!);
    }
    return null;
  }

  private chunkIn(c: RawChunk): ChunkIn {
    let errorRows = '';
    if (c.skip !== null) {
      for (let i = 0; i < c.skip.length; i++) {
        const row = c.firstRow + c.skip[i]!;
        errorRows += `${this.jobId}\t${row}\t\\N\t\\N\t${copyValue(c.refused[i]!)}\t${REFUSED_CODE}\n`;
      }
    }
    return {
      seq: c.seq,
      firstRow: c.firstRow,
      rowCount: c.rowCount,
      body: c.body,
      keys: null,
      skip: c.skip,
      errorRows,
    };
  }

  private async failRow(message: string, code: string): Promise<JobRecord | null> {
    await Promise.allSettled(this.appends);
    const job = await this.ctx.store.fail(this.jobId!, message, code);
    if (job) this.ctx.ended(job);
    await this.ctx.store.purge(this.jobId!);
    return job ?? this.ctx.store.get(this.jobId!);
  }

  private async header(line: string): Promise<void> {
    const names = parseCsvHeader(line);
    const seen = new Set<string>();
    for (const n of names) {
      if (seen.has(n)) throw new BadInputError(`CSV header repeats column '${n}'`, 'GROVE_ERR_BAD_CSV');
      seen.add(n);
    }
    if (this.p.key !== null) {
      if (!names.includes(this.p.key))
        throw new BadInputError(
          `the CSV has no key column '${this.p.key}' (columns: ${names.slice(0, 20).join(', ')})`,
          'GROVE_ERR_BAD_CSV',
        );
      if (names.length < 2)
        throw new BadInputError('the CSV has no feature column besides the key', 'GROVE_ERR_BAD_CSV');
    }
    // The job keeps the header as uploaded (the key column too: raw chunks hold it); the workers
    // get it without the key column (raw-chunk.ts).
    const uploaded = joinCsv(names);
    const features = workerHeader(uploaded, this.p.key).header;
    // The workers judge the header (unknown features are a 400) before anything is stored; with no
    // worker up, the job is still taken and its chunks wait for one.
    const check = await this.ctx.batch.call(this.model, this.version, 'csv', features, []);
    if (check.kind === 'refused') throw GroveError.fromWire(check.message, check.code);
    await this.create(uploaded);
  }

  private async create(header: string | null): Promise<void> {
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
