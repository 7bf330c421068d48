// Streaming CSV (and NDJSON) input: text arrives in pieces of any size (a request body, a file
// stream, an upload); readers want chunks of whole records of about `chunkChars` characters, so a
// chunk can be parsed on its own (on another thread, for `:batch`) and memory stays bounded by the
// chunk size plus the longest record. A record longer than `maxRecordChars` is refused
// (GROVE_ERR_LINE_TOO_LONG) instead of growing a buffer without end.
import { createReadStream } from 'node:fs';
import { BadInputError } from '../errors/grove-error.js';
import { completeRecordsEnd, countLines, firstRecordEnd, forEachCsvRecord, stripBom } from './csv-records.js';

/** Text in pieces: a request or file stream (strings or UTF-8 bytes), or an array of strings. */
export type TextSource = AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;

export interface ChunkOptions {
  /** About this many characters per chunk (default 256 Ki). */
  chunkChars?: number;
  /** Longest record accepted (default 8 Mi characters). */
  maxRecordChars?: number;
}

export interface RecordChunk {
  /** Complete records, the last one ended by its line break (or by the end of the input). */
  text: string;
  /** The line (1-based, in the whole input) the chunk starts on. */
  firstLine: number;
}

const CHUNK_CHARS = 256 * 1024;
const MAX_RECORD_CHARS = 8 * 1024 * 1024;

/**
 * Cuts a text stream into chunks of whole records. `quotes`: CSV, where a line break inside a
 * double-quoted field does not end a record; false for NDJSON. A leading BOM is dropped.
 */
export async function* recordChunks(
  source: TextSource,
  quotes: boolean,
  opts: ChunkOptions = {},
): AsyncGenerator<RecordChunk> {
  const chunkChars = opts.chunkChars ?? CHUNK_CHARS;
  const maxRecord = opts.maxRecordChars ?? MAX_RECORD_CHARS;
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  let line = 1;
  let first = true;
  for await (const piece of source) {
    pending += typeof piece === 'string' ? piece : decoder.decode(piece, { stream: true });
    if (first && pending.length > 0) {
      pending = stripBom(pending);
      first = false;
    }
    if (pending.length < chunkChars) continue;
    const end = completeRecordsEnd(pending, quotes);
    if (end !== -1) {
      const text = pending.slice(0, end);
      pending = pending.slice(end);
      yield { text, firstLine: line };
      line += countLines(text);
    }
    if (pending.length > maxRecord) {
      throw new BadInputError(
        `line ${line} is longer than ${maxRecord} characters${quotes ? ' (or a quote is not closed)' : ''}`,
        'GROVE_ERR_LINE_TOO_LONG',
      );
    }
  }
  pending += decoder.decode();
  if (first) pending = stripBom(pending);
  if (pending.trim().length > 0) yield { text: pending, firstLine: line };
}

export interface CsvStream {
  /** The header row's names (trimmed). */
  header: string[];
  /** The data records after the header, in chunks of whole records. */
  chunks: AsyncIterable<RecordChunk>;
}

/** Reads a CSV stream's header row (GROVE_ERR_BAD_CSV when there is none) and hands on the rest. */
export async function openCsv(source: TextSource, opts: ChunkOptions = {}): Promise<CsvStream> {
  return splitHeader(recordChunks(source, true, opts), (c, found) => {
    let { text, firstLine } = c;
    // The header is the first record (blank lines before it are skipped, as everywhere).
    while (found.length === 0 && text.length > 0) {
      const end = firstRecordEnd(text);
      const head = end === -1 ? text : text.slice(0, end);
      forEachCsvRecord(head, firstLine, (fields) => found.push(fields));
      firstLine += countLines(head);
      text = text.slice(head.length);
    }
    return text.length > 0 ? { text, firstLine } : null;
  });
}

/**
 * The header row of a stream of record chunks, and the chunks after it: `read(chunk, found)`
 * pushes the chunk's header record (if any) into `found` and returns what follows it (or null).
 */
async function splitHeader<C>(
  source: AsyncGenerator<C>,
  read: (chunk: C, found: string[][]) => C | null,
): Promise<{ header: string[]; chunks: AsyncIterable<C> }> {
  const it = source[Symbol.asyncIterator]();
  const found: string[][] = [];
  let rest: C | null = null;
  while (found.length === 0) {
    const next = await it.next();
    if (next.done) throw new BadInputError('the CSV has no header row', 'GROVE_ERR_BAD_CSV');
    rest = read(next.value, found);
  }
  async function* chunks(): AsyncGenerator<C> {
    if (rest) yield rest;
    for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
  }
  return { header: found[0]!.map((h) => h.trim()), chunks: chunks() };
}

/** Complete records as UTF-8 bytes; `bytes` alone owns its ArrayBuffer, so it can be transferred. */
export interface ByteRecordChunk {
  bytes: Buffer;
  firstLine: number;
}

const BOM_BYTES = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * recordChunks over bytes, never decoded (a pool thread reads them): the same records, cut at the
 * same places, with `chunkChars` and `maxRecordChars` counted in bytes. Each chunk is one copy of
 * the bytes that arrived, in an ArrayBuffer of its own.
 */
export async function* recordByteChunks(
  source: AsyncIterable<Uint8Array>,
  quotes: boolean,
  opts: ChunkOptions = {},
): AsyncGenerator<ByteRecordChunk> {
  const chunkBytes = opts.chunkChars ?? CHUNK_CHARS;
  const maxRecord = opts.maxRecordChars ?? MAX_RECORD_CHARS;
  let parts: Uint8Array[] = [];
  let size = 0;
  let line = 1;
  let first = true;
  const take = (): Buffer => {
    // A fresh buffer (not Node's shared pool) is what can be transferred.
    const all = Buffer.from(new ArrayBuffer(size));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return all;
  };
  // Whether a line feed arrived since the bytes were last searched: without one, no record ended.
  let fresh = false;
  for await (const piece of source) {
    parts.push(piece);
    size += piece.length;
    if (!fresh) fresh = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength).indexOf(10) !== -1;
    if (first) {
      if (size < BOM_BYTES.length) continue;
      first = false;
      const head = take();
      const bom = head.subarray(0, BOM_BYTES.length).equals(BOM_BYTES) ? BOM_BYTES.length : 0;
      parts = [head.subarray(bom)];
      size -= bom;
    }
    if (size < chunkBytes || !fresh) {
      if (size > maxRecord) throw tooLong(line, maxRecord, quotes);
      continue;
    }
    fresh = false;
    const all = take();
    const end = completeRecordsEnd(all, quotes);
    if (end !== -1) {
      const rest = Buffer.from(all.subarray(end)); // copied: `all` leaves with the chunk
      const bytes = all.subarray(0, end);
      parts = [rest];
      size = rest.length;
      const at = line;
      line += countLines(bytes); // before the chunk leaves: a reader may transfer its buffer away
      yield { bytes, firstLine: at };
    } else parts = [all];
    if (size > maxRecord) throw tooLong(line, maxRecord, quotes);
  }
  // Still `first`: fewer bytes than a byte order mark, so none to drop.
  const bytes = take();
  if (new TextDecoder('utf-8').decode(bytes).trim().length > 0) yield { bytes, firstLine: line };
}

function tooLong(line: number, max: number, quotes: boolean): BadInputError {
  return new BadInputError(
    `line ${line} is longer than ${max} bytes${quotes ? ' (or a quote is not closed)' : ''}`,
    'GROVE_ERR_LINE_TOO_LONG',
  );
}

/** openCsv over bytes (recordByteChunks): the header decoded, the data records left as bytes. */
export async function openCsvBytes(
  source: AsyncIterable<Uint8Array>,
  opts: ChunkOptions = {},
): Promise<{ header: string[]; chunks: AsyncIterable<ByteRecordChunk> }> {
  const decoder = new TextDecoder('utf-8');
  return splitHeader(recordByteChunks(source, true, opts), (c, found) => {
    let { bytes, firstLine } = c;
    while (found.length === 0 && bytes.length > 0) {
      const end = firstRecordEnd(bytes);
      const head = end === -1 ? bytes : bytes.subarray(0, end);
      forEachCsvRecord(decoder.decode(head), firstLine, (fields) => found.push(fields));
      firstLine += countLines(head);
      bytes = bytes.subarray(head.length);
    }
    return bytes.length > 0 ? { bytes, firstLine } : null;
  });
}

/** A file as a text stream for `openCsv` / `recordChunks`. */
export function fileText(path: string): AsyncIterable<string> {
  return createReadStream(path, { encoding: 'utf8', highWaterMark: 256 * 1024 });
}
