// csvDenseRows through the WebAssembly reader against the JavaScript rule it stands in for
// (forEachCsvRecord + denseRecord): the same rows, values and errors for text that mixes lines it
// reads with lines it hands back (missing tokens, spaces, CRLF, blank lines, non-ASCII, a line
// longer than its window, a bad width, a non-number).
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../random/seeded-rng.js';
import { forEachCsvRecord } from './csv-records.js';
import { csvDenseRows, denseRecord } from './feature-columns.js';
import { WINDOW } from './number-module.js';

function reference(text: string, firstLine: number, header: string[], columns: Int32Array, F: number) {
  const out: number[] = [];
  forEachCsvRecord(text, firstLine, (fields, line) => {
    const row = new Float64Array(F).fill(Number.NaN);
    denseRecord(fields, line, header, columns, row, 0);
    out.push(...row);
  });
  return out;
}

function outcome(f: () => unknown): unknown {
  try {
    return f();
  } catch (err) {
    return { error: (err as Error).message, code: (err as { code?: string }).code };
  }
}

function same(text: string, header: string[], columns: Int32Array, F: number, firstLine = 1): void {
  // The text, and the same text as UTF-8 bytes (as a streamed `:batch` chunk reaches a pool thread).
  sameAs(text, text, header, columns, F, firstLine);
  sameAs(Buffer.from(text), text, header, columns, F, firstLine);
}

function sameAs(
  input: string | Buffer,
  text: string,
  header: string[],
  columns: Int32Array,
  F: number,
  firstLine: number,
): void {
  const fast = outcome(() => Array.from(csvDenseRows(input, firstLine, header, columns, F).data));
  const slow = outcome(() => reference(text, firstLine, header, columns, F));
  if (!Array.isArray(fast) || !Array.isArray(slow)) {
    expect(fast).toEqual(slow);
    return;
  }
  // Bit-identical rows (toEqual would take -0 for 0).
  const bytes = (x: number[]) => Buffer.from(Float64Array.from(x).buffer);
  expect(fast.length).toBe(slow.length);
  expect(bytes(fast).equals(bytes(slow))).toBe(true);
}

describe('csvDenseRows: the WebAssembly reader reads as the JavaScript rule does', () => {
  const header = ['a', 'b', 'c', 'd'];
  const columns = Int32Array.from([2, 0, -1, 1]);

  it('mixed lines: missing tokens, spaces, CRLF, blank lines, non-ASCII, -0', () => {
    const lines = [
      '1.5,-0,x,2e3',
      'NA,  7 ,anything,',
      '',
      '3,4,5,6\r',
      '.5,+1.,0,-0.0',
      'inf,-Infinity,1,nan',
      '0.1,0.2,0.3,0.30000000000000004',
      '0,-0,7,1e-5',
    ];
    same(lines.join('\n'), header, columns, 3);
    same(`${lines.join('\r\n')}\r\n`, header, columns, 3, 40);
    same('9,8,7,6\r', header, columns, 3);
    // Non-ASCII text: byte and character offsets differ, so its window is read by the JavaScript rule.
    same(`${lines.join('\n')}\n1,2,é,4\n`, header, columns, 3);
  });

  it('errors are the JavaScript rule’s: the line and column named', () => {
    same('1,2,3,4\n1,2,3\n', header, columns, 3);
    same('1,2,3,4\n5,6,7,8,9\n', header, columns, 3);
    same('1,2,3,4\n1,two,3,4\n', header, columns, 3);
    same('1,2,3,4\n1,2,3,0x10\n', header, columns, 3, 10);
  });

  it('leading columns that are not features (an id before the numbers) are passed over, as the rule passes them', () => {
    const idHeader = ['id', 'a', 'b'];
    const idColumns = Int32Array.from([-1, 1, 0]);
    same('k1,1,2\nk2,,3e2\r\n\n"q",4,5\n,6,7\nk é,8,9\n', idHeader, idColumns, 2);
    // Errors: a line without the id's comma, a short line, a long one, a non-number after the id.
    same('k1,1,2\nk2\n', idHeader, idColumns, 2, 3);
    same('k1,1,2\nk2,1\n', idHeader, idColumns, 2);
    same('k1,1,2\nk2,1,2,3\n', idHeader, idColumns, 2);
    same('k1,1,2\nk2,x,2\n', idHeader, idColumns, 2);
    // Two leading columns, then features; and every column but the last not a feature.
    same('a,b,1,2\nc,d,,3\n', ['i', 'j', 'x', 'y'], Int32Array.from([-1, -1, 0, 1]), 2);
    same('a,b,1\nc,d,\n', ['i', 'j', 'x'], Int32Array.from([-1, -1, 0]), 1);
    same('a,b,c\n', ['i', 'j', 'x'], Int32Array.from([-1, -1, -1]), 0);
  });

  it('seeded text across several windows, with a line longer than a window', () => {
    const rng = mulberry32(7);
    const F = 12;
    const wide = Array.from({ length: F }, (_, i) => `f${i}`);
    const cols = Int32Array.from({ length: F }, (_, i) => (i === 5 ? -1 : (i * 7) % F));
    const parts: string[] = [];
    let bytes = 0;
    while (bytes < 3 * WINDOW) {
      const row = Array.from({ length: F }, () => {
        const u = rng();
        return u < 0.05
          ? ''
          : u < 0.07
            ? 'NaN'
            : u < 0.08
              ? ' 1.5'
              : String(Math.fround((rng() - 0.5) * 1e4));
      }).join(',');
      parts.push(row);
      bytes += row.length + 1;
    }
    // One line longer than a window: its last field carries a long run of digits.
    parts.splice(
      100,
      0,
      `${Array.from({ length: F - 1 }, () => '1').join(',')},0.${'0'.repeat(WINDOW + 10)}1`,
    );
    same(`${parts.join('\n')}\n`, wide, cols, F);
    same(parts.join('\n'), wide, cols, F, 5);
  });
});
