// The one way grove writes an answer, on either HTTP path: a node:http ServerResponse (NodeReply)
// or the fast front's raw socket (fast-front.ts). Both take `send(status, flat headers, body)`;
// replyJson and replyError build the JSON answers and errors every route gives
// (`{"error": message, "code": code}`, docs/errors.md) with the request id.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MethodNotAllowedError, RetryLaterError, toGroveError } from '../errors/grove-error.js';

export interface Reply {
  /** True once an answer was sent or the client went away. */
  readonly done: boolean;
  /** `headers` is flat: [name, value, name, value...], lower-case names, no content-length. */
  send(status: number, headers: string[], body: string | Buffer): void;
}

export const JSON_TYPE = 'application/json';

export class NodeReply implements Reply {
  constructor(readonly res: ServerResponse) {}
  get done(): boolean {
    return this.res.headersSent || this.res.destroyed;
  }
  send(status: number, headers: string[], body: string | Buffer): void {
    if (this.done) return;
    headers.push('content-length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.length));
    // An answer given while a body is half read (a streamed :batch or job upload refused at its
    // header): node:http drains only a body nobody began to read, so this one would never be read
    // on and the client, still sending, would hang with the connection.
    const req = this.res.req;
    if (req !== undefined && req.readableDidRead && !req.complete) drainRest(req);
    this.res.writeHead(status, headers);
    this.res.end(body);
  }
}

/** How long the rest of a refused body is read and dropped before its connection is cut. */
export const DRAIN_MS = 10_000;

/**
 * Reads and drops the rest of a body its handler stopped reading (as node:http does for a body
 * nobody read), so the client finishes sending, reads the answer and may send its next request on
 * the same connection; closing at once instead would cut a client still sending (EPIPE before it
 * reads the answer). Bounded as nginx bounds its lingering close: after DRAIN_MS the connection is
 * closed whatever is still coming.
 */
function drainRest(req: IncomingMessage): void {
  // An abandoned async iterator's 'readable' listener would keep the stream from flowing.
  req.removeAllListeners('readable');
  req.on('data', () => {});
  req.resume();
  const cut = setTimeout(() => req.socket?.destroy(), DRAIN_MS);
  cut.unref();
  req.once('end', () => clearTimeout(cut));
  req.once('close', () => clearTimeout(cut));
}

/** A JSON answer; `body` is serialized unless it already is JSON text (`text: true`). */
export function replyJson(
  reply: Reply,
  status: number,
  body: unknown,
  requestId?: string,
  extra?: readonly string[],
): void {
  replyJsonText(reply, status, JSON.stringify(body), requestId, extra);
}

export function replyJsonText(
  reply: Reply,
  status: number,
  text: string,
  requestId?: string,
  extra?: readonly string[],
): void {
  const headers = ['content-type', JSON_TYPE];
  if (requestId) headers.push('x-request-id', requestId);
  if (extra) for (let i = 0; i < extra.length; i++) headers.push(extra[i]!);
  reply.send(status, headers, text);
}

/** The headers every error answer carries (405 names what is allowed; 429/503 say when to retry). */
export function errorHeaders(err: unknown, requestId: string | undefined): string[] {
  const g = toGroveError(err);
  const headers = ['content-type', JSON_TYPE];
  if (requestId) headers.push('x-request-id', requestId);
  if (g instanceof MethodNotAllowedError) headers.push('allow', g.allow.join(', '));
  if (g instanceof RetryLaterError) headers.push('retry-after', String(g.retryAfterS));
  // A body too large or too slow was not read to its end: close rather than read the rest.
  if (g.statusCode === 413 || g.statusCode === 408) headers.push('connection', 'close');
  return headers;
}

/** `{"error": message, "code": code}` with the error's status; returns the status. */
export function replyError(
  reply: Reply,
  err: unknown,
  requestId?: string,
  extra?: readonly string[],
): number {
  const g = toGroveError(err);
  const headers = errorHeaders(g, requestId);
  if (extra) for (let i = 0; i < extra.length; i++) headers.push(extra[i]!);
  reply.send(g.statusCode, headers, JSON.stringify(g.toJSON()));
  return g.statusCode;
}
