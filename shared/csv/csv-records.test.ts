import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../random/seeded-rng.js';
import { completeRecordsEnd, firstRecordEnd, forEachCsvRecord, parseCsvText } from './csv-records.js';

function records(text: string, firstLine = 1): [string[], number][] {
  const out: [string[], number][] = [];
  forEachCsvRecord(text, firstLine, (f, line) => out.push([f, line]));
  return out;
}

describe('the CSV reader', () => {
  it('reads RFC 4180 quoting: commas, doubled quotes and line breaks inside quotes', () => {
    expect(records('a,"b,c","d""e"\n"x\ny",2,\r\n', 4)).toEqual([
      [['a', 'b,c', 'd"e'], 4],
      [['x\ny', '2', ''], 5],
    ]);
  });

  it('skips empty lines, drops a BOM, takes LF and CRLF, numbers lines in the whole input', () => {
    expect(records('1,2\n\n3,4\r\n\r\n5,6', 10)).toEqual([
      [['1', '2'], 10],
      [['3', '4'], 12],
      [['5', '6'], 14],
    ]);
    expect(parseCsvText('\uFEFFa,b\n1,2\n')).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
  });

  it('names the line of a quoting mistake (GROVE_ERR_BAD_CSV)', () => {
    expect(() => records('a,b\n1,"2\n3,4\n', 1)).toThrow(
      expect.objectContaining({ code: 'GROVE_ERR_BAD_CSV' }),
    );
    expect(() => records('a,b\n1,x"y\n', 20)).toThrow(/CSV line 21/);
  });

  it('reads quote-free text exactly as csv-parse does (the fast path)', () => {
    const rng = mulberry32(7);
    const alphabet = ['1', '-2.5', '', 'NA', ' x ', '\r', 'e5'];
    for (let round = 0; round < 300; round++) {
      const lines: string[] = [];
      const n = 1 + Math.floor(rng() * 6);
      for (let i = 0; i < n; i++) {
        const w = Math.floor(rng() * 4);
        const fields = Array.from({ length: w }, () => alphabet[Math.floor(rng() * alphabet.length)]!);
        lines.push(fields.join(','));
      }
      const text = lines.join(rng() < 0.5 ? '\n' : '\r\n') + (rng() < 0.5 ? '\n' : '');
      const mine = records(text).map(([f]) => f);
      const theirs = parse(text, {
        relax_column_count: true,
        skip_empty_lines: true,
        record_delimiter: ['\r\n', '\n'],
      });
      expect(mine, JSON.stringify(text)).toEqual(theirs);
    }
  });

  it('finds where complete records end, minding quotes', () => {
    expect(completeRecordsEnd('a,b\n1,2', true)).toBe(4);
    expect(completeRecordsEnd('a,b', true)).toBe(-1);
    const t = 'a,b\n"x\ny",1\n"open\n';
    expect(completeRecordsEnd(t, true)).toBe(t.indexOf('"open'));
    expect(completeRecordsEnd('{"a":"x"}\n{"b"', false)).toBe(10);
    expect(firstRecordEnd('"h\n1",b\nrest\n')).toBe(8);
    expect(firstRecordEnd('"never closed\n')).toBe(-1);
  });
});
