// Where an answer goes: a node:http ServerResponse (NodeReply) or the fast front's raw socket
// (fast-front.ts). The forward path only needs `send(status, flat headers, body)`.
import type { ServerResponse } from 'node:http';
import { toGroveError } from '../errors/grove-error.js';

export interface Reply {
  /** True once an answer was sent or the client went away. */
  readonly done: boolean;
  /** `headers` is flat: [name, value, name, value...], lower-case names, no content-length. */
  send(status: number, headers: string[], body: string | Buffer): void;
}

export class NodeReply implements Reply {
  constructor(readonly res: ServerResponse) {}
  get done(): boolean {
    return this.res.headersSent || this.res.destroyed;
  }
  send(status: number, headers: string[], body: string | Buffer): void {
    if (this.done) return;
    headers.push('content-length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.length));
    this.res.writeHead(status, headers);
    this.res.end(body);
  }
}

export function replyJson(
  reply: Reply,
  status: number,
  body: unknown,
  requestId?: string,
  extra?: string[],
): void {
  const headers = ['content-type', 'application/json'];
  if (requestId) headers.push('x-request-id', requestId);
  if (extra) headers.push(...extra);
  reply.send(status, headers, JSON.stringify(body));
}

export function replyError(reply: Reply, err: unknown, requestId?: string): void {
  const g = toGroveError(err);
  const allow = (g as { allow?: string[] }).allow;
  replyJson(reply, g.statusCode, g.toJSON(), requestId, allow ? ['allow', allow.join(', ')] : undefined);
}
