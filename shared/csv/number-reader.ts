// Dense rows from quote-free CSV text through the WebAssembly number reader (number-module.ts):
// the text is copied into the instance's memory a window of whole lines at a time (one
// `encodeInto`, or a plain copy of ASCII bytes as `:batch` hands them over; no per-field strings),
// each line read there in one call, and a line the reader
// declines (a field it does not cover, a width other than the header's) read by the JavaScript
// rule (`denseRecord`), which also words every error. Lines are found and numbered exactly as
// forEachCsvRecord does (csv-records.ts), so both paths see the same records.
import {
  MAX_FIELDS,
  type NumberInstance,
  numberInstance,
  TEXT_AT,
  VALUES_AT,
  WINDOW,
} from './number-module.js';

type DenseRecord = (fields: string[], line: number, base: number) => void;

let instance: NumberInstance | null | undefined;
let values: Float64Array;
let text8: Uint8Array;
const encoder = new TextEncoder();

function reader(): NumberInstance | null {
  if (instance === undefined) {
    // No WebAssembly (node --jitless), or a runtime that refuses to compile it: the JavaScript
    // rule reads everything.
    try {
      instance = numberInstance();
    } catch {
      instance = null;
    }
    if (instance) {
      values = new Float64Array(instance.memory, VALUES_AT, MAX_FIELDS);
      text8 = new Uint8Array(instance.memory, TEXT_AT, WINDOW);
    }
  }
  return instance;
}

/**
 * Reads the records of `text` (complete, quote-free, starting on line `firstLine`) into `data`, row
 * r at r * numFeatures by `columns`; returns the number of records, or -1 when the reader is not
 * available (no WebAssembly) and nothing was read.
 */
export function wasmDenseRows(
  text: string | Buffer,
  firstLine: number,
  columns: Int32Array,
  numFeatures: number,
  data: Float64Array,
  slow: DenseRecord,
): number {
  const r = reader();
  if (r === null) return -1;
  const width = columns.length;
  // Leading columns that are not features (a job's key column, `:batch?exclude=id`): passed over
  // here, so a line of numbers behind an id is still read by the reader, not by the JS rule.
  let lead = 0;
  while (lead < width - 1 && columns[lead]! < 0) lead++;
  const n = text.length;
  // Bytes (ASCII only: the caller checks) are copied as they are; text is encoded window by window.
  const bytes = typeof text === 'string' ? null : text;
  let rows = 0;
  let line = firstLine;
  let start = 0;
  while (start < n) {
    // The window ends at a line's end (or the text's); a line longer than a window is read alone.
    const windowEnd = start + WINDOW >= n ? n : text.lastIndexOf('\n', start + WINDOW - 1) + 1;
    let ascii = false;
    if (windowEnd > start && bytes !== null) {
      text8.set(bytes.subarray(start, windowEnd));
      ascii = true;
    } else if (windowEnd > start) {
      // Byte offsets are character offsets only in ASCII text; other text is read by the JS rule.
      const done = encoder.encodeInto((text as string).substring(start, windowEnd), text8);
      ascii = done.written === windowEnd - start && done.read === windowEnd - start;
    }
    const from = start;
    const to = windowEnd > start ? windowEnd : n;
    while (start < to) {
      let end = bytes !== null ? bytes.indexOf(10, start) : text.indexOf('\n', start);
      if (end === -1) end = n;
      // CRLF ends a record; a lone CR (even at the very end) stays in the field, as csv-records.ts.
      const stop = end < n && end > start && codeAt(text, end - 1) === 13 ? end - 1 : end;
      if (stop > start) {
        const base = rows * numFeatures;
        let at = start;
        for (let j = 0; j < lead && at !== -1; j++) {
          at = bytes !== null ? bytes.indexOf(44, at) : text.indexOf(',', at);
          if (at !== -1) at = at < stop ? at + 1 : -1;
        }
        const k =
          ascii && width <= MAX_FIELDS && at !== -1
            ? r.line(TEXT_AT + at - from, TEXT_AT + stop - from, width - lead)
            : -1;
        if (k === width - lead) {
          for (let j = lead; j < width; j++) {
            const f = columns[j]!;
            if (f >= 0) data[base + f] = values[j - lead]!;
          }
        } else {
          const l =
            bytes === null ? (text as string).slice(start, stop) : bytes.toString('latin1', start, stop);
          slow(l.split(','), line, base);
        }
        rows++;
      }
      line++;
      start = end + 1;
      // A line longer than the window: only it was taken here.
      if (windowEnd <= from) break;
    }
  }
  return rows;
}

function codeAt(text: string | Buffer, i: number): number {
  return typeof text === 'string' ? text.charCodeAt(i) : text[i]!;
}
