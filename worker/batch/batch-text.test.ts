import { describe, expect, it } from 'vitest';
import { type GroveError, UnknownFeatureError } from '../../shared/errors/grove-error.js';
import {
  chunkLines,
  csvColumns,
  formatCsv,
  formatNdjson,
  parseCsvRows,
  parseNdjsonRows,
  splitCsvLine,
} from './batch-text.js';

const idx = new Map([
  ['a', 0],
  ['b', 1],
  ['c', 2],
]);

describe('batch text', () => {
  it('maps a CSV header in any order and parses rows (empty = missing)', () => {
    const cols = csvColumns('c,a\r', idx);
    expect([...cols]).toEqual([2, 0]);
    const input = parseCsvRows(chunkLines('3,1\r\n,2\n'), cols, 3, 2);
    expect(input[0]).toBe(1);
    expect(Number.isNaN(input[1]!)).toBe(true);
    expect(input[2]).toBe(3);
    expect(Number.isNaN(input[5]!)).toBe(true);
    expect(input[3]).toBe(2);
  });

  it('names unknown header columns and numbers bad lines', () => {
    expect(() => csvColumns('a,zz,yy', idx)).toThrow(UnknownFeatureError);
    try {
      parseCsvRows(['1,2,3', '1,x,3'], csvColumns('a,b,c', idx), 3, 2);
    } catch (e) {
      expect((e as GroveError).code).toBe('GROVE_ERR_NOT_NUMERIC');
      expect((e as GroveError).message).toContain('line 3');
    }
    expect(() => parseCsvRows(['1,2'], csvColumns('a,b,c', idx), 3, 2)).toThrow(/fields/);
  });

  it('splits quoted CSV fields', () => {
    expect(splitCsvLine('"a,b","c""d",e')).toEqual(['a,b', 'c"d', 'e']);
  });

  it('parses NDJSON arrays and objects', () => {
    const r = parseNdjsonRows(['[1,2,3]', '{"b":5,"c":null}'], idx, 3, false, 1);
    expect(r.rows).toBe(2);
    expect([...r.input!.slice(0, 3)]).toEqual([1, 2, 3]);
    expect(Number.isNaN(r.input![3]!)).toBe(true);
    expect(r.input![4]).toBe(5);
    expect(() => parseNdjsonRows(['{"zz":1}'], idx, 3, false, 1)).toThrow(UnknownFeatureError);
    expect(() => parseNdjsonRows(['{oops'], idx, 3, false, 1)).toThrow(/line 1/);
    const s = parseNdjsonRows(['{"w1":2}'], new Map(), 0, true, 1);
    expect(s.input).toBeNull();
    expect(s.named).toEqual([{ w1: 2 }]);
  });

  it('formats CSV and NDJSON at full precision, NaN as null in JSON', () => {
    const out = new Float64Array([0.1 + 0.2, 1, Number.NaN, 2]);
    expect(formatCsv(out, 2, 2)).toBe('0.30000000000000004,1\nNaN,2\n');
    expect(formatNdjson(out, 2, ['p0', 'p1'])).toBe(
      '{"p0":0.30000000000000004,"p1":1}\n{"p0":null,"p1":2}\n',
    );
  });
});
