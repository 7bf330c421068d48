// Streaming batch: `POST /v1/models/{m}[/versions/{v}]:batch` with CSV (header row, text/csv) or
// NDJSON (application/x-ndjson), answered as a stream in the same format and order. The body is
// read in chunks of whole lines (CSV as bytes, moved to the thread undecoded); each chunk is
// parsed, predicted and formatted on a pool thread while the event loop keeps serving. Memory stays bounded: at most MAX_CHUNKS_IN_FLIGHT chunks
// exist at once, the request is read only as fast as results go out (for-await pulls on demand),
// and a response that cannot take more (res.write() false) pauses everything until 'drain'.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { csvField } from '../../shared/csv/csv-format.js';
import { openCsvBytes, recordChunks } from '../../shared/csv/csv-stream.js';
import { featureColumns } from '../../shared/csv/feature-columns.js';
import { UnsupportedMediaTypeError } from '../../shared/errors/grove-error.js';
import type { RequestContext, RouteParams, Router } from '../http/router.js';
import type { BatchResult } from '../pool/pool-messages.js';
import type { LoadedVersion } from '../repository/loaded-version.js';
import type { WorkerContext } from '../worker-context.js';
import type { BatchFormat } from './batch-text.js';

/** About this many characters of input per pool task; a longer record is refused (it would
 *  defeat the bounded memory). */
const CHUNKS = { chunkChars: 256 * 1024, maxRecordChars: 8 * 1024 * 1024 };
const MAX_CHUNKS_IN_FLIGHT = 2;

const CSV_TYPES = ['text/csv', 'application/csv'];
const NDJSON_TYPES = [
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/jsonlines',
];

export function batchFormatOf(contentType: string | undefined): BatchFormat {
  const t = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (CSV_TYPES.includes(t)) return 'csv';
  if (NDJSON_TYPES.includes(t)) return 'ndjson';
  // The 415 says what would have worked (curl -d sends application/x-www-form-urlencoded).
  throw new UnsupportedMediaTypeError(t || '(none)', [...CSV_TYPES, ...NDJSON_TYPES]);
}

class BatchStream {
  private readonly queue: Promise<BatchResult>[] = [];
  private header: string[] | null = null;
  private columns: Int32Array | null = null;
  private readonly k: number;
  private readonly outputNames: string[];

  constructor(
    private readonly w: WorkerContext,
    private readonly v: LoadedVersion,
    private readonly res: ServerResponse,
    private readonly ctx: RequestContext,
    private readonly format: BatchFormat,
    private readonly raw: boolean,
    /** CSV columns that are not features (`?exclude=id`): read past, not an unknown column. */
    private readonly exclude: readonly string[],
  ) {
    const m = v.model.meta;
    this.outputNames = raw ? m.rawOutputNames : m.outputNames;
    this.k = this.outputNames.length;
  }

  private start(): void {
    if (this.res.headersSent) return;
    const v = this.v;
    this.res.writeHead(200, [
      'content-type',
      this.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
      'x-request-id',
      this.ctx.requestId,
      'x-grove-model',
      v.name,
      'x-grove-model-version',
      v.version,
      'x-grove-model-sha256',
      v.sha256,
    ]);
    if (this.format === 'csv') this.res.write(this.outputNames.map(csvField).join(',') + '\n');
  }

  /** CSV: maps the header's columns to the model's features (a 400 before anything is written). */
  setHeader(header: string[]): void {
    this.columns = featureColumns(header, this.v.featureNames, { exclude: this.exclude });
    this.header = header;
  }

  /** Queues a chunk of complete records (CSV as bytes, given away); writes finished chunks in order. */
  async submit(text: string | Buffer, firstLine: number): Promise<void> {
    const task = this.w.pool.batch({
      op: 'batch',
      key: this.v.key,
      format: this.format,
      text,
      header: this.header,
      columns: this.columns,
      firstLine,
      raw: this.raw,
      outputNames: this.outputNames,
      wantInput: this.w.predictor.observers.length > 0,
    });
    task.catch(() => {}); // awaited in order below; avoid an unhandled rejection meanwhile
    this.queue.push(task);
    if (this.queue.length >= MAX_CHUNKS_IN_FLIGHT) await this.writeOne();
  }

  private async writeOne(): Promise<void> {
    const r = await this.queue.shift()!;
    this.start();
    const empty = new Float64Array(0);
    this.w.predictor.done(
      this.v,
      this.ctx.requestId,
      r.input,
      r.named,
      r.rows,
      r.out ?? empty,
      this.k,
      this.raw,
      undefined,
      true, // the pool thread's fresh arrays, used by nothing after this
    );
    if (!this.res.write(r.text)) await drainOrClose(this.res);
  }

  async finish(): Promise<void> {
    while (this.queue.length > 0) await this.writeOne();
    this.start();
    this.res.end();
  }

  /** After a chunk failed mid-stream: say so in the stream's own format, then end it. */
  failLate(err: Error & { code?: string }): void {
    if (this.res.destroyed || this.res.writableEnded) return;
    const code = err.code ?? 'GROVE_ERR_INTERNAL';
    if (this.format === 'csv') this.res.end(`#error,${code},${csvField(err.message)}\n`);
    else this.res.end(JSON.stringify({ error: err.message, code }) + '\n');
  }
}

/** Waits for 'drain'; a client that went away ('close') ends the batch instead of hanging it. */
function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', gone);
      resolve();
    };
    const gone = () => {
      res.off('drain', done);
      res.off('close', gone);
      reject(new Error('client closed the connection'));
    };
    res.on('drain', done);
    res.on('close', gone);
  });
}

export function addBatchRoutes(router: Router, w: WorkerContext): void {
  const batch = async (
    req: IncomingMessage,
    res: ServerResponse,
    params: RouteParams,
    ctx: RequestContext,
  ) => {
    const format = batchFormatOf(req.headers['content-type']);
    const v = w.repository.resolve(params.model!, params.version);
    ctx.served = v;
    ctx.streaming = true;
    const raw = /(^|&)raw=(true|1)(&|$)/.test(ctx.query);
    const exclude = ctx.query.includes('exclude=') ? new URLSearchParams(ctx.query).getAll('exclude') : [];
    const stream = new BatchStream(w, v, res, ctx, format, raw, exclude);
    v.acquire();
    try {
      if (format === 'csv') {
        // CSV stays bytes up to the pool thread's number reader (csv-stream.ts, recordByteChunks).
        const csv = await openCsvBytes(req, CHUNKS);
        stream.setHeader(csv.header);
        for await (const c of csv.chunks) await stream.submit(c.bytes, c.firstLine);
      } else {
        req.setEncoding('utf8');
        const chunks = recordChunks(req as AsyncIterable<string>, false, CHUNKS);
        for await (const c of chunks) await stream.submit(c.text, c.firstLine);
      }
      await stream.finish();
      return 200;
    } catch (err) {
      if (!res.headersSent) throw err;
      w.logger.warn(
        {
          event: 'batch_failed',
          model: v.name,
          version: v.version,
          requestId: ctx.requestId,
          err: (err as Error).message,
        },
        'batch failed mid-stream',
      );
      stream.failLate(err as Error & { code?: string });
      return 200;
    } finally {
      v.release();
    }
  };
  router.add('POST', '/v1/models/{model}:batch', batch, 'batch');
  router.add('POST', '/v1/models/{model}/versions/{version}:batch', batch, 'batch');
}
