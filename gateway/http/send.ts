// Writing JSON answers and errors (`{"error","code"}`, docs/errors.md) with the request id.
import type { ServerResponse } from 'node:http';
import { toGroveError } from '../../shared/errors/grove-error.js';

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  requestId?: string,
  extra?: Record<string, string>,
): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...extra,
  };
  if (requestId) headers['x-request-id'] = requestId;
  res.writeHead(status, headers);
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown, requestId?: string): void {
  const g = toGroveError(err);
  const extra: Record<string, string> = {};
  if ((g as { allow?: string[] }).allow) extra.allow = (g as unknown as { allow: string[] }).allow.join(', ');
  sendJson(res, g.statusCode, g.toJSON(), requestId, extra);
}
