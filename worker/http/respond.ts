// Writing responses: every answer is written with one writeHead (flat header array, the cheapest
// form node accepts) and one res.end(string), or one Reply.send on the fast front. Every response
// carries x-request-id; model answers also name the model, the version and the model file's
// sha256 (docs/architecture.md, Tracing).
import type { ServerResponse } from 'node:http';
import { type GroveError, MethodNotAllowedError, toGroveError } from '../../shared/errors/grove-error.js';
import type { Reply } from '../../shared/http/reply.js';

export const JSON_TYPE = 'application/json';

/** What every model response names (docs/architecture.md, Tracing). */
export interface ServedBy {
  name: string;
  version: string;
  sha256: string;
}

export function sendJson(res: ServerResponse, status: number, body: string, requestId: string): void {
  res.writeHead(status, [
    'content-type',
    JSON_TYPE,
    'content-length',
    '' + Buffer.byteLength(body),
    'x-request-id',
    requestId,
  ]);
  res.end(body);
}

export function sendModelJson(
  res: ServerResponse,
  status: number,
  body: string,
  requestId: string,
  by: ServedBy,
): void {
  const headers = modelHeaders(requestId, by);
  headers.push('content-length', '' + Buffer.byteLength(body));
  res.writeHead(status, headers);
  res.end(body);
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

/** `{"error": message, "code": code}` with the error's status (405 adds Allow). */
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
  res.writeHead(e.statusCode, errorHeaders(e, requestId, by));
  res.end(errorBody(e));
  return e.statusCode;
}

/** sendError on the fast front. */
export function replyError(reply: Reply, err: unknown, requestId: string, by: ServedBy | null): number {
  const e = toGroveError(err);
  reply.send(e.statusCode, errorHeaders(e, requestId, by), errorBody(e));
  return e.statusCode;
}

function errorBody(e: GroveError): string {
  return JSON.stringify({ error: e.message, code: e.code });
}

function errorHeaders(e: GroveError, requestId: string, by: ServedBy | null): string[] {
  const headers: string[] = ['content-type', JSON_TYPE, 'x-request-id', requestId];
  if (e instanceof MethodNotAllowedError) headers.push('allow', e.allow.join(', '));
  if (by !== null)
    headers.push(
      'x-grove-model',
      by.name,
      'x-grove-model-version',
      by.version,
      'x-grove-model-sha256',
      by.sha256,
    );
  // A body too large (or too slow) was not read to its end: close rather than read the rest.
  if (e.statusCode === 413 || e.statusCode === 504) headers.push('connection', 'close');
  return headers;
}
