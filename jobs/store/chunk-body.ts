// A chunk's body in its grove_job_chunks row on a PostgreSQL server (docs/jobs.md, Storage): the
// text as uploaded, or, when it is mostly numbers, packed (digit-pack.ts) in body_packed with body
// left empty. PGlite keeps bodies in its spool instead (chunk-spool.ts).
import { packDigits, packWorthIt, unpackDigits } from './digit-pack.js';
import type { Row } from './job-records.js';

/** The (body, body_packed) parameters of a chunk's insert. node-postgres sends a Buffer as its bytes. */
export function bodyParams(body: string | Uint8Array): [string | Buffer, Buffer | null] {
  if (typeof body === 'string') return [body, null];
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const packed = packDigits(bytes);
  return packWorthIt(bytes, packed) ? ['', packed] : [bytes, null];
}

/** The text of a row read with its body and body_packed columns; null when the packing is damaged. */
export function rowText(row: Row): string | null {
  const packed = row.body_packed as Buffer | null | undefined;
  if (!packed) return (row.body as string | null) ?? '';
  try {
    return unpackDigits(packed).toString('utf8');
  } catch {
    return null;
  }
}
