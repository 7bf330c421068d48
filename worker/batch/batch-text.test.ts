import { describe, expect, it } from 'vitest';
import { UnknownFeatureError } from '../../shared/errors/grove-error.js';
import { chunkLines, formatNdjson, parseNdjsonRows } from './batch-text.js';

const idx = new Map([
  ['a', 0],
  ['b', 1],
  ['c', 2],
]);

describe('batch text', () => {
  it('parses NDJSON arrays and objects', () => {
    const r = parseNdjsonRows(['[1,2,3]', '{"b":5,"c":null}'], idx, 3, false, 1);
    expect(r.rows).toBe(2);
    expect([...r.input!.slice(0, 3)]).toEqual([1, 2, 3]);
    expect(Number.isNaN(r.input![3]!)).toBe(true);
    expect(r.input![4]).toBe(5);
    expect(() => parseNdjsonRows(['{"zz":1}'], idx, 3, false, 1)).toThrow(UnknownFeatureError);
    expect(() => parseNdjsonRows(['{oops'], idx, 3, false, 1)).toThrow(/line 1/);
    expect(() => parseNdjsonRows(['[1,"x",3]'], idx, 3, false, 7)).toThrow(/'x' at NDJSON line 7/);
    expect(chunkLines('[1]\r\n[2]\n')).toEqual(['[1]', '[2]']);
    const s = parseNdjsonRows(['{"w1":2}'], new Map(), 0, true, 1);
    expect(s.input).toBeNull();
    expect(s.named).toEqual([{ w1: 2 }]);
  });

  it('formats NDJSON at full precision, NaN as null', () => {
    const out = new Float64Array([0.1 + 0.2, 1, Number.NaN, 2]);
    expect(formatNdjson(out, 2, ['p0', 'p1'])).toBe(
      '{"p0":0.30000000000000004,"p1":1}\n{"p0":null,"p1":2}\n',
    );
  });
});
