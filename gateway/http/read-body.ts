// Reads a request body up to a byte limit (413 GROVE_ERR_BODY_TOO_LARGE past it, checked against
// Content-Length first so an oversized upload is refused before it is read).
import type { IncomingMessage } from 'node:http';
import { BadInputError, BodyTooLargeError } from '../../shared/errors/grove-error.js';

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) {
      req.resume();
      reject(new BodyTooLargeError(limit));
      return;
    }
    let first: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLargeError(limit));
        return;
      }
      if (first === undefined) first = c;
      else (chunks ??= [first]).push(c);
    });
    req.on('end', () => {
      if (size > limit) return;
      resolve(chunks ? Buffer.concat(chunks, size) : (first ?? Buffer.alloc(0)));
    });
    req.on('error', () => reject(new BadInputError('request body aborted', 'GROVE_ERR_ABORTED')));
  });
}
