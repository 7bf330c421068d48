// The worker's answers on top of the one reply helper (shared/http/reply.ts): every response
// carries x-request-id; model answers also name the model, the version and the model file's
// sha256 (docs/api.md, Tracing). node:http answers are one writeHead (flat header array) and one
// res.end(string); fast-front answers one Reply.send.
import type { ServerResponse } from 'node:http';
import { type GroveError, toGroveError } from '../../shared/errors/grove-error.js';
import { errorHeaders, JSON_TYPE, NodeReply, type Reply, replyJsonText } from '../../shared/http/reply.js';

export { JSON_TYPE } from '../../shared/http/reply.js';

/** What every model response names (docs/api.md: every response names model and version). */
export interface ServedBy {
  name: string;
  version: string;
  sha256: string;
}

export function sendJson(res: ServerResponse, status: number, body: string, requestId: string): void {
  replyJsonText(new NodeReply(res), status, body, requestId);
}

export function sendModelJson(
  res: ServerResponse,
  status: number,
  body: string,
  requestId: string,
  by: ServedBy,
): void {
  new NodeReply(res).send(status, modelHeaders(requestId, by), body);
}

/** A model answer on the fast front (the front adds content-length and date). */
export function replyModelJson(reply: Reply, body: string, requestId: string, by: ServedBy): void {
  reply.send(200, modelHeaders(requestId, by), body);
}

function modelHeaders(requestId: string, by: ServedBy): string[] {
  return [
    'content-type',
    JSON_TYPE,
    'x-request-id',
    requestId,
    'x-grove-model',
    by.name,
    'x-grove-model-version',
    by.version,
    'x-grove-model-sha256',
    by.sha256,
  ];
}

/** `{"error": message, "code": code}` with the error's status (405 adds Allow); returns the status. */
export function sendError(
  res: ServerResponse,
  err: unknown,
  requestId: string,
  by: ServedBy | null = null,
): number {
  const e: GroveError = toGroveError(err);
  if (res.headersSent) {
    // A streamed answer already started: the only honest signal left is to cut the connection.
    res.destroy(e);
    return e.statusCode;
  }
  return replyError(new NodeReply(res), e, requestId, by);
}

/** sendError on the fast front (or any Reply). */
export function replyError(reply: Reply, err: unknown, requestId: string, by: ServedBy | null): number {
  const e = toGroveError(err);
  const headers = errorHeaders(e, requestId);
  if (by !== null)
    headers.push(
      'x-grove-model',
      by.name,
      'x-grove-model-version',
      by.version,
      'x-grove-model-sha256',
      by.sha256,
    );
  // A request answered by the timeout may still be running: close rather than read past it.
  if (e.statusCode === 504) headers.push('connection', 'close');
  reply.send(e.statusCode, headers, JSON.stringify(e.toJSON()));
  return e.statusCode;
}
