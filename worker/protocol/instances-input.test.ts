import { describe, expect, it } from 'vitest';
import { type GroveError, UnknownFeatureError } from '../../shared/errors/grove-error.js';
import { fakeVersion } from './fake-version.test-helper.js';
import { parsePredictRequest } from './instances-input.js';

const v = fakeVersion(3, { features: ['age', 'plan', 'income'] });

describe('parsePredictRequest', () => {
  it('reads array rows and named rows (absent or null = missing)', () => {
    const p = parsePredictRequest({ instances: [[1, 2, 3], { age: 31, income: null }] }, v, 100, 50);
    expect(p.rows).toBe(2);
    expect([...p.input!.slice(0, 3)]).toEqual([1, 2, 3]);
    expect(p.input![3]).toBe(31);
    expect(Number.isNaN(p.input![4]!)).toBe(true);
    expect(Number.isNaN(p.input![5]!)).toBe(true);
  });

  it('reads TF Serving columnar inputs and the raw flag', () => {
    const p = parsePredictRequest({ inputs: { age: [1, 2], plan: [3, 4] }, raw: true }, v, 100, 50);
    expect(p.raw).toBe(true);
    expect(p.input![0]).toBe(1);
    expect(p.input![4]).toBe(4);
  });

  it('names every unknown feature, __proto__ included, in one 400', () => {
    const body = JSON.parse('{"instances":[{"age":1,"zip":2,"__proto__":3},{"constructor":1}]}');
    try {
      parsePredictRequest(body, v, 100, 50);
      throw new Error('expected an error');
    } catch (e) {
      expect(e).toBeInstanceOf(UnknownFeatureError);
      expect((e as UnknownFeatureError).features.sort()).toEqual(['__proto__', 'constructor', 'zip']);
    }
  });

  it('refuses malformed bodies with codes', () => {
    const code = (b: unknown) => {
      try {
        parsePredictRequest(b, v, 2, 50);
      } catch (e) {
        return (e as GroveError).code;
      }
      return 'none';
    };
    expect(code({})).toBe('GROVE_ERR_BAD_INPUT');
    expect(code({ instances: 'x' })).toBe('GROVE_ERR_BAD_INPUT');
    expect(code({ instances: [[1, 2]] })).toBe('GROVE_ERR_FEATURE_COUNT');
    expect(code({ instances: [[1, 'x', 3]] })).toBe('GROVE_ERR_NOT_NUMERIC');
    expect(code({ instances: [[1, 'NAN', 3]] })).toBe('GROVE_ERR_NOT_NUMERIC'); // not a pandas NA spelling
    expect(code({ instances: [5] })).toBe('GROVE_ERR_BAD_INPUT');
    expect(code({ instances: [[1, 2, 3]], raw: 'yes' })).toBe('GROVE_ERR_BAD_INPUT');
    expect(
      code({
        instances: [
          [1, 2, 3],
          [1, 2, 3],
          [1, 2, 3],
        ],
      }),
    ).toBe('GROVE_ERR_TOO_MANY_ROWS');
  });

  it('reads string values by the one value rule (docs/formats.md)', () => {
    const p = parsePredictRequest(
      { instances: [['NA', ' 2 ', '-inf'], { age: 'None', income: 'null' }] },
      v,
      2,
      50,
    );
    expect([...p.input!.subarray(0, 6)]).toEqual([
      Number.NaN,
      2,
      Number.NEGATIVE_INFINITY,
      Number.NaN,
      Number.NaN,
      Number.NaN,
    ]);
  });

  it('passes named rows through for sparse models', () => {
    const sv = fakeVersion(0, { sparse: true });
    const p = parsePredictRequest({ instances: [{ w1: 1, w2: null, city: 'Paris' }] }, sv, 10, 5);
    expect(p.input).toBeNull();
    // null is absent; strings pass through (DictVectorizer one-hots them as name=value).
    expect({ ...p.named![0] }).toEqual({ w1: 1, city: 'Paris' });
  });
});
