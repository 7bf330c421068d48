// Request ids, the one scheme for the gateway and the worker (docs/api.md, Tracing): the client's
// x-request-id when it is 1-128 visible ASCII characters, else a new one. 128 keeps a gateway's
// merged call within a worker's 64 KiB head: it names up to 128 clients' ids, URI-encoded, in
// x-grove-request-ids. New ids are a per-process random prefix plus a counter: unique across
// processes, and far cheaper on the hot path than a UUID per request.
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const MAX_REQUEST_ID = 128;

const prefix = randomBytes(6).toString('hex');
let counter = 0;

/** A fresh id (no client id to keep). */
export function newRequestId(): string {
  counter = (counter + 1) >>> 0;
  return prefix + '-' + counter.toString(36);
}

/** True for an id a client may choose: 1-128 characters in 0x21-0x7e. */
export function isRequestId(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > MAX_REQUEST_ID) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

/** The request's id: the client's x-request-id when acceptable, else a new one. */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  return typeof given === 'string' && isRequestId(given) ? given : newRequestId();
}
