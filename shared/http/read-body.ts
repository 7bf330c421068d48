// The one request-body reader (gateway and worker, node:http path). A declared Content-Length over
// the limit is refused before a byte is read; a chunked body that grows past it stops being read
// at once. Either way the caller answers 413 and the connection closes (replyError adds
// `connection: close` for 413): the rest of an oversized upload is never read, so a client cannot
// make the server drain gigabytes. A client that goes away mid-body is GROVE_ERR_ABORTED.
import type { IncomingMessage } from 'node:http';
import { BadInputError, BodyTooLargeError } from '../errors/grove-error.js';

const EMPTY = Buffer.alloc(0);

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    req.pause();
    return Promise.reject(new BodyTooLargeError(limit));
  }
  return new Promise((resolve, reject) => {
    let first: Buffer | null = null;
    let chunks: Buffer[] | null = null;
    let size = 0;
    let settled = false;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        settled = true;
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
      if (settled) return;
      settled = true;
      if (chunks !== null) resolve(Buffer.concat(chunks, size));
      else resolve(first === null ? EMPTY : (first as Buffer));
    });
    const aborted = () => {
      if (settled) return;
      settled = true;
      reject(
        new BadInputError('the client closed the connection before its body was read', 'GROVE_ERR_ABORTED'),
      );
    };
    req.once('error', aborted);
    req.once('close', aborted);
  });
}

/** The body as UTF-8 text. */
export function readBodyText(req: IncomingMessage, limit: number): Promise<string> {
  return readBody(req, limit).then((b) => b.toString('utf8'));
}
