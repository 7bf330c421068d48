// The node:http server behind the fast front (gateway and worker): it serves every request the
// fast front hands over and refuses malformed ones the same way in both processes: a JSON error
// (400 GROVE_ERR_BAD_HTTP, 431 for an oversized head), then the connection closes. `Expect`:
// 100-continue is answered (100, or at once 413 when the declared body is over the request's limit,
// so the client never sends it); any other expectation is 417 (RFC 9110 10.1.1).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { BodyTooLargeError, GroveError } from '../errors/grove-error.js';
import { isBatchUrl } from './api-routes.js';
import { NodeReply, replyError } from './reply.js';
import { requestIdOf } from './request-id.js';

export interface NodeServerOptions {
  bodyLimit: number;
  /**
   * The body limit of a request whose route has its own (a job upload is bounded by
   * --max-job-bytes, not by the prediction body limit); null: `bodyLimit`.
   */
  bodyLimitOf?: (req: IncomingMessage) => number | null;
  maxHeaderSize?: number;
  headersTimeout?: number;
}

function clientErrorBody(status: number, code: string, message: string): string {
  const body = JSON.stringify({ error: message, code });
  return `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

const BAD_HTTP = clientErrorBody(400, 'GROVE_ERR_BAD_HTTP', 'malformed HTTP request');
const TOO_LARGE = clientErrorBody(431, 'GROVE_ERR_HEADERS_TOO_LARGE', 'request head too large');

/** node:http's clientError: answer a malformed request (if the socket still can) and close. */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  const code = err.code ?? '';
  if (!socket.writable || code === 'ECONNRESET' || code === 'EPIPE') {
    socket.destroy();
    return;
  }
  socket.end(code === 'HPE_HEADER_OVERFLOW' ? TOO_LARGE : BAD_HTTP);
}

export function createNodeServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  opts: NodeServerOptions,
): http.Server {
  const server = http.createServer(
    {
      keepAliveTimeout: 65_000,
      requestTimeout: 0,
      headersTimeout: opts.headersTimeout ?? 60_000,
      maxHeaderSize: opts.maxHeaderSize ?? 16 * 1024,
    },
    handler,
  );
  server.on('clientError', answerClientError);
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const declared = Number(req.headers['content-length']);
    // A streamed :batch has no body limit; asked to continue (curl asks for any body over 1 MiB),
    // it must not be refused by the limit of bodies read whole.
    const limit = isBatchUrl(req.url)
      ? Number.POSITIVE_INFINITY
      : (opts.bodyLimitOf?.(req) ?? opts.bodyLimit);
    if (declared > limit) {
      replyError(new NodeReply(res), new BodyTooLargeError(limit), requestIdOf(req.headers));
      return;
    }
    res.writeContinue();
    handler(req, res);
  });
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    replyError(
      new NodeReply(res),
      new GroveError('only Expect: 100-continue is supported', 'GROVE_ERR_EXPECTATION'),
      requestIdOf(req.headers),
      // The client may send its body anyway: close rather than read it as the next request.
      ['connection', 'close'],
    );
  });
  return server;
}
