// Request ids: the client's x-request-id when it sends a sane one, else a new one. New ids are a
// per-process random prefix plus a counter: unique across processes, and far cheaper on the hot
// path than a UUID per request.
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const prefix = randomBytes(6).toString('hex');
let counter = 0;

const MAX_ID = 200;

export function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  if (
    typeof given === 'string' &&
    given.length > 0 &&
    given.length <= MAX_ID &&
    /^[\x21-\x7e]+$/.test(given)
  ) {
    return given;
  }
  counter = (counter + 1) >>> 0;
  return prefix + '-' + counter.toString(36);
}
