import { describe, expect, it } from 'vitest';
import type { GroveError } from '../../errors/grove-error.js';
import {
  featureNumber,
  isMissingText,
  jsonValueNumber,
  MISSING_TOKENS,
  textNumber,
} from './feature-value.js';

describe('the feature-value rule (docs/formats.md)', () => {
  it("reads pandas' default missing-value tokens, and only those spellings, as missing", () => {
    for (const t of MISSING_TOKENS) expect(textNumber(t)).toBeNaN();
    for (const t of ['NA', ' nan ', 'None', 'null', 'NULL', '#N/A', '<NA>', 'N/A', 'n/a', '']) {
      expect(isMissingText(t)).toBe(true);
      expect(textNumber(t)).toBeNaN();
    }
    for (const t of ['NAN', 'Nan', 'none', 'NONE', 'Null', 'na', 'missing', '?']) {
      expect(isMissingText(t)).toBe(false);
      expect(textNumber(t)).toBeUndefined();
    }
  });

  it('reads inf and infinity in any case, with a sign, as infinities', () => {
    for (const t of ['inf', 'INF', 'Inf', '+inf', 'Infinity', 'INFINITY', 'infinity', '+Infinity'])
      expect(textNumber(t)).toBe(Number.POSITIVE_INFINITY);
    for (const t of ['-inf', '-INF', '-Infinity', '-infinity', ' -inf '])
      expect(textNumber(t)).toBe(Number.NEGATIVE_INFINITY);
    expect(textNumber('infinit')).toBeUndefined();
    expect(textNumber('++inf')).toBeUndefined();
  });

  it('reads decimal numbers, spaces around them ignored, and refuses other notations', () => {
    const cases: [string, number][] = [
      ['1', 1],
      ['-2.5', -2.5],
      ['.5', 0.5],
      ['5.', 5],
      ['+5', 5],
      ['1e-05', 1e-5],
      ['2E3', 2000],
      ['0', 0],
      ['-0', -0],
      ['0.25', 0.25],
      ['007', 7],
      [' 1.5 ', 1.5],
      ['\t3', 3],
      ['0.30000000000000004', 0.30000000000000004],
    ];
    for (const [t, v] of cases) expect(textNumber(t)).toBe(v);
    for (const t of ['0x10', '0X1f', '0b1', '0o7', ' 0x10', '1_000', '1,5', 'true', '1e', '--1', '1 2'])
      expect(textNumber(t)).toBeUndefined();
    expect(textNumber('   ')).toBeNaN(); // blank is empty
  });

  it('JSON values: numbers as they are, null missing, booleans 1/0, strings by the text rule', () => {
    expect(jsonValueNumber(3.5)).toBe(3.5);
    expect(jsonValueNumber(null)).toBeNaN();
    expect(jsonValueNumber(undefined)).toBeNaN();
    expect(jsonValueNumber(true)).toBe(1);
    expect(jsonValueNumber(false)).toBe(0);
    expect(jsonValueNumber('NA')).toBeNaN();
    expect(jsonValueNumber('-Infinity')).toBe(Number.NEGATIVE_INFINITY);
    expect(jsonValueNumber('2')).toBe(2);
    expect(jsonValueNumber([1])).toBeUndefined();
    expect(jsonValueNumber({})).toBeUndefined();
    expect(jsonValueNumber('NAN')).toBeUndefined();
  });

  it('featureNumber throws GROVE_ERR_NOT_NUMERIC naming the place', () => {
    expect(featureNumber(' 4 ', 0)).toBe(4);
    const err = (() => {
      try {
        featureNumber('abc', 3);
      } catch (e) {
        return e as GroveError;
      }
    })();
    expect(err?.code).toBe('GROVE_ERR_NOT_NUMERIC');
    expect(err?.message).toBe("value 'abc' at row 3 is not a number");
    expect(() => featureNumber({}, 'inputs[0].data[2]')).toThrow(/an object at inputs\[0\]\.data\[2\]/);
  });
});
