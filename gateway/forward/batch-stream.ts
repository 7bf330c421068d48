// Streams a `:batch` call through the gateway (docs/api.md, Batch streaming): the client's CSV or
// NDJSON body is piped to one worker as it arrives and the worker's streamed answer is piped back,
// with backpressure both ways (undici sends a Readable body; stream.pipeline carries the answer),
// so the gateway holds a few chunks, never the batch, and no body limit applies: the worker bounds
// its own memory. A batch is not retried: once its first bytes went to a worker they cannot be
// sent again. An error before the answer starts is a JSON error (and the connection closes: the
// rest of the body is not read); after it, the connection is cut, as the worker itself does.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import {
  type GroveError,
  TimeoutError,
  toGroveError,
  UnavailableError,
  UpstreamError,
} from '../../shared/errors/grove-error.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { UpstreamWorker } from '../upstream/upstream-worker.js';
import type { UpstreamCaller } from './upstream-call.js';

/** The worker's answer may take this long to start, and its chunks this long apart. */
const BATCH_IDLE_MS = 60_000;

/** Headers of the worker's answer the client does not get (hop-by-hop, or set here). */
const SKIP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'date',
  'x-request-id',
  'content-length',
]);

export interface BatchCall {
  worker: UpstreamWorker;
  /** Worker path, version resolved: `/v1/models/{m}/versions/{v}:batch[?query]`. */
  path: string;
  headers: Record<string, string | string[]>;
  model: string;
  version: string;
  requestId: string;
}

export async function streamBatch(
  req: IncomingMessage,
  res: ServerResponse,
  call: BatchCall,
  caller: UpstreamCaller,
  metrics: GatewayMetrics,
): Promise<void> {
  const w = call.worker;
  const start = performance.now();
  w.outstanding++;
  w.requests++;
  w.callStarted(start);
  let status = 0;
  try {
    const up = await w.control.request({
      method: 'POST',
      path: call.path,
      headers: call.headers,
      body: req,
      headersTimeout: BATCH_IDLE_MS,
      bodyTimeout: BATCH_IDLE_MS,
    });
    status = up.statusCode;
    const headers: string[] = [];
    for (const k in up.headers) {
      if (SKIP.has(k)) continue;
      const v = up.headers[k];
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const x of v) headers.push(k, x);
      else headers.push(k, v);
    }
    headers.push('x-grove-worker', w.url, 'x-request-id', call.requestId);
    // An error answer may come before the whole body was sent: do not read the rest of it.
    if (status >= 400) headers.push('connection', 'close');
    res.writeHead(status, headers);
    await pipeline(up.body, res);
    if (status >= 500) caller.fail(w, false);
    else w.outlier.success();
  } catch (err) {
    // The client went away (nginx logs 499): nothing to answer, and not the worker's fault.
    const clientGone = res.destroyed || (req.destroyed && !req.complete);
    const e = batchError(err, w);
    if (status === 0 && !clientGone) caller.fail(w, (err as { code?: string }).code === 'ECONNREFUSED');
    status = status || (clientGone ? 499 : e.statusCode);
    if (res.headersSent) res.destroy(e);
    else {
      res.writeHead(e.statusCode, [
        'content-type',
        'application/json',
        'x-request-id',
        call.requestId,
        'connection',
        'close',
      ]);
      res.end(JSON.stringify(e.toJSON()));
    }
    if (!req.complete) req.destroy();
  } finally {
    w.outstanding--;
    w.callEnded(start, performance.now() - start);
    metrics.observe(call.model, call.version, status, (performance.now() - start) / 1000);
  }
}

function batchError(err: unknown, w: UpstreamWorker): GroveError {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
    return new TimeoutError(`worker ${w.url} timed out on a batch`);
  if (code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT')
    return new UnavailableError(`no worker could take the batch (${w.url}: ${code})`);
  if (code === '' && !(err instanceof Error)) return toGroveError(err);
  return new UpstreamError(`worker ${w.url} failed on a batch: ${code || (err as Error).message}`);
}
