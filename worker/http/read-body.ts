// Reads a request body into a string under a byte limit. A declared Content-Length over the limit
// is refused before reading; a chunked body that grows past it stops being read at once. Either way
// the caller answers 413 and the connection is closed (the rest of the body is never read).
import type { IncomingMessage } from 'node:http';
import { BodyTooLargeError } from '../../shared/errors/grove-error.js';

const EMPTY = Buffer.alloc(0);

export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return readBodyBuffer(req, limit).then(toText);
}

function toText(b: Buffer): string {
  return b.toString('utf8');
}

export function readBodyBuffer(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    return Promise.reject(new BodyTooLargeError(limit));
  }
  return new Promise((resolve, reject) => {
    let first: Buffer | null = null;
    let chunks: Buffer[] | null = null;
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        reject(new BodyTooLargeError(limit));
        return;
      }
      if (first === null) first = chunk;
      else (chunks ??= [first]).push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      if (size > limit) return;
      if (chunks !== null) resolve(Buffer.concat(chunks, size));
      else resolve(first === null ? EMPTY : (first as Buffer));
    });
    req.once('error', reject);
  });
}
