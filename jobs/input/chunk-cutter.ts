// Cuts an upload's bytes into the chunks a job is stored in (docs/jobs.md), without looking inside
// its rows: a chunk is the input's own bytes, whole lines, as they arrived (the key column, blank
// lines and CRLF line ends included), and its row count. Keys are taken out when a chunk is scored
// (raw-chunk.ts), so the upload, which runs one job at a time on one connection, does per row no
// more than find the line end: the bytes go to the database as they came, with no decoding and no
// string per row.
//
// A row is a non-blank line ("" or "\r" are blank), numbered from 1 in input order; a byte order
// mark opening the input is dropped. CSV's first non-blank line is the header (decoded, its line
// end removed), not a row. Rows the database cannot store as text are refused here, before
// anything else sees them: a chunk holding a NUL byte has those lines taken out (the chunk's `skip`
// offsets), and a chunk that is not valid UTF-8 is decoded with U+FFFD for the bad bytes, as a
// text decoder reading the input would.
import { isUtf8 } from 'node:buffer';
import { BadInputError } from '../../shared/errors/grove-error.js';

/** The workers' `:batch` refuses longer lines too (docs/api.md). */
export const MAX_LINE_BYTES = 8 * 1024 * 1024;

const NL = 10;
const CR = 13;

export interface RawChunk {
  seq: number;
  firstRow: number;
  /** Rows (non-blank lines), those refused here included. */
  rowCount: number;
  /** The lines: bytes as uploaded, or text when they were not valid UTF-8. */
  body: Buffer | string;
  /** Offsets (0-based, within the chunk) of rows refused here; their lines are not in `body`. */
  skip: number[] | null;
  /** Why each of `skip` was refused, in the same order. */
  refused: string[];
}

export interface CutterOptions {
  /** CSV: the first non-blank line is the header. */
  header: boolean;
  /** A chunk is cut after this many rows or once it holds this many bytes, whichever comes first. */
  chunkRows: number;
  chunkBytes: number;
}

export class ChunkCutter {
  /** The CSV header line once it is complete (null before, and for NDJSON). */
  header: string | null = null;
  /** Rows seen (numbered from 1). */
  rows = 0;
  chunks = 0;
  private wantHeader: boolean;
  /** The first bytes, held until there are enough to tell whether they open with a byte order mark. */
  private held: Buffer | null = Buffer.alloc(0);
  /** Bytes of the current chunk (or of the header), the line being read included. */
  private parts: Buffer[] = [];
  private bytes = 0;
  private inChunk = 0;
  private firstRow = 1;
  private nul = false;
  /** The line being read: its length so far and its first byte. */
  private lineLen = 0;
  private lineFirst = -1;

  constructor(private readonly o: CutterOptions) {
    this.wantHeader = o.header;
  }

  /** Takes the next bytes; returns the chunks they completed. */
  push(input: Buffer): RawChunk[] {
    let buf = input;
    if (this.held !== null) {
      buf = this.held.length === 0 ? buf : Buffer.concat([this.held, buf]);
      if (buf.length < BOM.length) {
        this.held = buf;
        return [];
      }
      this.held = null;
      if (buf.subarray(0, BOM.length).equals(BOM)) buf = buf.subarray(BOM.length);
    }
    return this.cut(buf);
  }

  /** The input ended: the chunks left (a last line without a line end is a row too). */
  end(): RawChunk[] {
    const out = this.held !== null && this.held.length > 0 ? this.cut(this.held) : [];
    this.held = null;
    const len = this.lineLen;
    if (len > 0 && !(len === 1 && this.lineFirst === CR)) {
      this.lineLen = 0;
      if (this.wantHeader) {
        this.wantHeader = false;
        this.header = headerText(Buffer.concat(this.parts));
        this.parts = [];
        this.bytes = 0;
      } else {
        this.rows++;
        this.inChunk++;
      }
    }
    if (this.inChunk > 0) out.push(this.take());
    return out;
  }

  private cut(buf: Buffer): RawChunk[] {
    const out: RawChunk[] = [];
    // Over-approximated per buffer: a chunk flagged wrongly only takes the slow look for NUL rows.
    if (buf.indexOf(0) !== -1) this.nul = true;
    let from = 0; // the start of the bytes of `buf` not in `parts` yet
    let pos = 0;
    for (;;) {
      const nl = buf.indexOf(NL, pos);
      if (nl === -1) break;
      const len = this.lineLen + (nl - pos);
      const first = this.lineLen > 0 ? this.lineFirst : nl > pos ? buf[pos]! : -1;
      this.lineLen = 0;
      pos = nl + 1;
      if (len === 0 || (len === 1 && first === CR)) {
        if (this.wantHeader) {
          // Blank lines before the header are not part of it.
          this.parts = [];
          from = pos;
        }
        continue;
      }
      if (this.wantHeader) {
        this.wantHeader = false;
        this.parts.push(buf.subarray(from, nl));
        this.header = headerText(Buffer.concat(this.parts));
        this.parts = [];
        this.bytes = 0;
        from = pos;
        continue;
      }
      this.rows++;
      this.inChunk++;
      if (this.inChunk >= this.o.chunkRows || this.bytes + (pos - from) >= this.o.chunkBytes) {
        this.parts.push(buf.subarray(from, pos));
        out.push(this.take());
        from = pos;
        if (buf.indexOf(0, pos) !== -1) this.nul = true;
      }
    }
    const rest = buf.length - pos;
    if (rest > 0) {
      if (this.lineLen === 0) this.lineFirst = buf[pos]!;
      this.lineLen += rest;
      if (this.lineLen > MAX_LINE_BYTES)
        throw new BadInputError('a line of the job input is longer than 8 MiB', 'GROVE_ERR_LINE_TOO_LONG');
    }
    if (from < buf.length) {
      this.parts.push(buf.subarray(from));
      this.bytes += buf.length - from;
    }
    return out;
  }

  private take(): RawChunk {
    const raw = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    const c: RawChunk = {
      seq: this.chunks++,
      firstRow: this.firstRow,
      rowCount: this.inChunk,
      body: raw,
      skip: null,
      refused: [],
    };
    if (this.nul) withoutNulRows(c, raw);
    if (!isUtf8(c.body as Buffer)) c.body = new TextDecoder().decode(c.body as Buffer);
    this.firstRow += this.inChunk;
    this.parts = [];
    this.bytes = 0;
    this.inChunk = 0;
    this.nul = false;
    return c;
  }
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

function headerText(line: Buffer): string {
  const text = new TextDecoder().decode(line);
  return text.endsWith('\r') ? text.slice(0, -1) : text;
}

/** PostgreSQL text cannot hold NUL: such rows are refused, their lines left out of the body. */
function withoutNulRows(c: RawChunk, raw: Buffer): void {
  const kept: Buffer[] = [];
  const skip: number[] = [];
  let offset = 0;
  let start = 0;
  while (start < raw.length) {
    let nl = raw.indexOf(NL, start);
    if (nl === -1) nl = raw.length - 1;
    const line = raw.subarray(start, nl + 1);
    start = nl + 1;
    const len = line.length - (line[line.length - 1] === NL ? 1 : 0);
    if (len === 0 || (len === 1 && line[0] === CR)) continue;
    if (line.indexOf(0) !== -1) {
      skip.push(offset);
      c.refused.push('the row holds a NUL character');
    } else kept.push(line);
    offset++;
  }
  c.body = Buffer.concat(kept);
  c.skip = skip.length > 0 ? skip : null;
}
