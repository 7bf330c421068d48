// The one CSV reader (RFC 4180, as docs/formats.md describes it): comma-separated fields, records
// ended by LF or CRLF, double-quoted fields that may hold commas, quotes ("" for one) and line
// breaks, empty lines skipped (as pandas.read_csv does), a leading UTF-8 BOM dropped. Quoting
// mistakes are GROVE_ERR_BAD_CSV naming the line.
//
// A chunk of complete records is parsed by csv-parse; a chunk holding no double quote at all cannot
// hold quoting, so its records are exactly its lines split at commas, which is what csv-parse
// returns for it, ~5x faster (`:batch` streams millions of such rows; csv-records.test.ts checks the
// two agree). `firstLine` numbers lines across chunks so errors name the line in the whole input.
import { createRequire } from 'node:module';
import { BadInputError } from '../errors/grove-error.js';

type CsvParse = typeof import('csv-parse/sync');
const require = createRequire(import.meta.url);
let csvParse: CsvParse | null = null;
/** csv-parse, loaded on the first quoted chunk: quote-free input (and every process start) skips it. */
function parser(): CsvParse {
  csvParse ??= require('csv-parse/sync') as CsvParse;
  return csvParse;
}

/** Called with each record's fields and the line (1-based, in the whole input) it starts on. */
export type RecordVisitor = (fields: string[], line: number) => void;

const PARSE_OPTIONS = {
  relax_column_count: true, // the caller checks widths against the header, across chunks
  skip_empty_lines: true,
  record_delimiter: ['\r\n', '\n'],
  info: true,
};

/**
 * Visits every record of `text`, which holds complete records (see `completeRecordsEnd`) and
 * starts on line `firstLine`.
 */
export function forEachCsvRecord(text: string, firstLine: number, visit: RecordVisitor): void {
  if (text.indexOf('"') !== -1) {
    quotedRecords(text, firstLine, visit);
    return;
  }
  let line = firstLine;
  let start = 0;
  const n = text.length;
  while (start < n) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = n;
    // CRLF ends a record; a lone CR (even at the very end) stays in the field, as csv-parse keeps it.
    const stop = end < n && end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    if (stop > start) visit(text.slice(start, stop).split(','), line);
    line++;
    start = end + 1;
  }
}

function quotedRecords(text: string, firstLine: number, visit: RecordVisitor): void {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parser().parse(text, PARSE_OPTIONS) as unknown as typeof records;
  } catch (err) {
    if (!(err instanceof parser().CsvError)) throw err;
    const at = (err as Error & { lines?: number }).lines ?? 1;
    const reason = err.message.replace(/ at line \d+.*$/s, '');
    throw new BadInputError(`CSV line ${firstLine + at - 1}: ${reason}`, 'GROVE_ERR_BAD_CSV');
  }
  for (const { record, info } of records) {
    // info.lines is the line the record ends on; a quoted field may span lines.
    let breaks = 0;
    for (const f of record) for (let i = f.indexOf('\n'); i !== -1; i = f.indexOf('\n', i + 1)) breaks++;
    visit(record, firstLine + info.lines - 1 - breaks);
  }
}

/** All records of a small, complete CSV text (a header first, if it has one). */
export function parseCsvText(text: string): string[][] {
  const out: string[][] = [];
  forEachCsvRecord(stripBom(text), 1, (fields) => out.push(fields));
  return out;
}

/**
 * The fields of one line that holds one whole record (no line break inside a field), read by the
 * same rules as every other CSV: a blank line has no fields. Bad quoting is GROVE_ERR_BAD_CSV
 * naming `line`.
 */
export function csvLineFields(text: string, line = 1): string[] {
  let out: string[] = [];
  forEachCsvRecord(text, line, (fields) => {
    out = fields;
  });
  return out;
}

/** Drops a leading UTF-8 byte order mark (Excel writes one). */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

// The record ends below read UTF-8 bytes (a Buffer) as they read text: a line feed and a double
// quote are single bytes that no other character's encoding contains, and offsets are then bytes.

/**
 * The index just past the last complete record of `text` (which starts at a record boundary), or
 * -1 when it holds none yet. With `quotes`, a line break inside a double-quoted field does not end
 * a record (CSV); without, every LF does (NDJSON, whose strings cannot hold a raw line break).
 */
export function completeRecordsEnd(text: string | Buffer, quotes: boolean): number {
  const last = text.lastIndexOf('\n');
  if (last === -1) return -1;
  const q = quotes ? text.indexOf('"') : -1;
  if (q === -1 || q > last) return last + 1;
  return recordEnd(text, q, false);
}

/** The index just past the first record of CSV `text` (which starts at a record boundary), or -1. */
export function firstRecordEnd(text: string | Buffer): number {
  const first = text.indexOf('\n');
  if (first === -1) return -1;
  const q = text.indexOf('"');
  if (q === -1 || q > first) return first + 1;
  return recordEnd(text, q, true);
}

// A quoted field opens and closes with a quote ("" inside counts twice), so a line break ends a
// record exactly when an even number of quotes precede it.
function recordEnd(text: string | Buffer, firstQuote: number, stopAtFirst: boolean): number {
  let q = firstQuote;
  let quoteCount = 0;
  let end = -1;
  let nl = text.indexOf('\n');
  while (nl !== -1) {
    if (q !== -1 && q < nl) {
      quoteCount++;
      q = text.indexOf('"', q + 1);
    } else {
      if ((quoteCount & 1) === 0) {
        end = nl + 1;
        if (stopAtFirst) return end;
      }
      nl = text.indexOf('\n', nl + 1);
    }
  }
  return end;
}

/** Counts line feeds: how far a chunk moves the line number. */
export function countLines(text: string | Buffer): number {
  let n = 0;
  if (typeof text !== 'string') {
    // A byte needle: Buffer#indexOf with a one-character string needle costs more per call.
    for (let i = text.indexOf(10); i !== -1; i = text.indexOf(10, i + 1)) n++;
    return n;
  }
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
