import { describe, expect, it } from 'vitest';
import { GroveError } from '../../shared/errors/grove-error.js';
import { fakeVersion } from './fake-version.test-helper.js';
import { parseInferRequest } from './tensor-input.js';

const v = fakeVersion(3);
const parse = (body: unknown, maxRows = 1000) => parseInferRequest(body, v, maxRows, 100);
const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(GroveError);
    expect((e as GroveError).statusCode).toBeGreaterThanOrEqual(400);
    expect((e as GroveError).statusCode).toBeLessThan(500);
    return (e as GroveError).code;
  }
  throw new Error('expected a GroveError');
};

describe('parseInferRequest', () => {
  it('reads flat [N, F] FP64 rows and echoes the id', () => {
    const p = parse({
      id: 'r1',
      inputs: [{ name: 'input-0', shape: [2, 3], datatype: 'FP64', data: [1, 2, 3, 4, 5, 6] }],
    });
    expect(p.id).toBe('r1');
    expect(p.rows).toBe(2);
    expect([...p.input!]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('reads nested data, null and "NaN" as missing, FP32 rounded to float32', () => {
    const p = parse({
      inputs: [
        {
          name: 'x',
          shape: [2, 3],
          datatype: 'FP32',
          data: [
            [0.1, null, 'NaN'],
            [1, 2, 3],
          ],
        },
      ],
    });
    expect(p.input![0]).toBe(Math.fround(0.1));
    expect(Number.isNaN(p.input![1]!)).toBe(true);
    expect(Number.isNaN(p.input![2]!)).toBe(true);
    expect(p.input![5]).toBe(3);
  });

  it('takes [F] as one row and integer / BOOL datatypes', () => {
    expect([
      ...parse({ inputs: [{ name: 'x', shape: [3], datatype: 'INT32', data: [1, -2, 3] }] }).input!,
    ]).toEqual([1, -2, 3]);
    expect([
      ...parse({ inputs: [{ name: 'x', shape: [1, 3], datatype: 'BOOL', data: [true, false, true] }] })
        .input!,
    ]).toEqual([1, 0, 1]);
    expect([
      ...parse({ inputs: [{ name: 'x', shape: [1, 3], datatype: 'UINT8', data: [0, 255, 7] }] }).input!,
    ]).toEqual([0, 255, 7]);
  });

  it('reads feature columns (one tensor per feature name), absent columns missing', () => {
    const p = parse({
      inputs: [
        { name: 'f2', shape: [2], datatype: 'FP64', data: [5, 6] },
        { name: 'f0', shape: [2, 1], datatype: 'FP64', data: [[1], [2]] },
      ],
    });
    expect(p.rows).toBe(2);
    expect(p.input![0]).toBe(1);
    expect(Number.isNaN(p.input![1]!)).toBe(true);
    expect(p.input![2]).toBe(5);
    expect(p.input![5]).toBe(6);
  });

  it('reads parameters.raw', () => {
    expect(
      parse({
        parameters: { raw: true },
        inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP64', data: [1, 2, 3] }],
      }).raw,
    ).toBe(true);
  });

  it('allocates shared memory above the pool threshold only', () => {
    const small = parse({ inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP64', data: [1, 2, 3] }] });
    expect(small.input!.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    const data = new Array(101 * 3).fill(1);
    const big = parse({ inputs: [{ name: 'x', shape: [101, 3], datatype: 'FP64', data }] });
    expect(big.input!.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('refuses every malformed request with a 4xx code', () => {
    const t = (x: unknown) => ({ inputs: [x] });
    const cases: Array<[unknown, string]> = [
      [null, 'GROVE_ERR_BAD_INPUT'],
      [[1, 2], 'GROVE_ERR_BAD_INPUT'],
      [{}, 'GROVE_ERR_BAD_INPUT'],
      [{ inputs: [] }, 'GROVE_ERR_BAD_INPUT'],
      [{ id: {}, inputs: [] }, 'GROVE_ERR_BAD_INPUT'],
      [t({ name: 'x', shape: [1, 4], datatype: 'FP64', data: [1, 2, 3, 4] }), 'GROVE_ERR_FEATURE_COUNT'],
      [t({ name: 'x', shape: [1, 3], datatype: 'FP64', data: [1, 2] }), 'GROVE_ERR_BAD_SHAPE'],
      [
        t({
          name: 'x',
          shape: [2, 3],
          datatype: 'FP64',
          data: [
            [1, 2, 3],
            [1, 2],
          ],
        }),
        'GROVE_ERR_BAD_SHAPE',
      ],
      [t({ name: 'x', shape: [1, 3, 1], datatype: 'FP64', data: [1, 2, 3] }), 'GROVE_ERR_BAD_SHAPE'],
      [t({ name: 'x', shape: [-1, 3], datatype: 'FP64', data: [1, 2, 3] }), 'GROVE_ERR_BAD_SHAPE'],
      [t({ name: 'x', shape: 'x', datatype: 'FP64', data: [1, 2, 3] }), 'GROVE_ERR_BAD_SHAPE'],
      [t({ name: 'x', shape: [1, 3], datatype: 'BYTES', data: ['a', 'b', 'c'] }), 'GROVE_ERR_BAD_DATATYPE'],
      [t({ name: 'x', shape: [1, 3], datatype: 'INT8', data: [1, 2, 300] }), 'GROVE_ERR_BAD_DATATYPE'],
      [t({ name: 'x', shape: [1, 3], datatype: 'INT32', data: [1, 2, 3.5] }), 'GROVE_ERR_BAD_DATATYPE'],
      [t({ name: 'x', shape: [1, 3], datatype: 'FP64', data: [1, 'abc', 3] }), 'GROVE_ERR_NOT_NUMERIC'],
      [t({ name: 'x', shape: [1, 3], datatype: 'FP64', data: [1, {}, 3] }), 'GROVE_ERR_NOT_NUMERIC'],
      [t({ name: 'x', shape: [1, 3], datatype: 'FP64', data: 'abc' }), 'GROVE_ERR_BAD_INPUT'],
      [t({ shape: [1, 3], datatype: 'FP64', data: [1, 2, 3] }), 'GROVE_ERR_BAD_INPUT'],
      [
        {
          inputs: [
            { name: 'f0', shape: [1], datatype: 'FP64', data: [1] },
            { name: 'zz', shape: [1], datatype: 'FP64', data: [1] },
          ],
        },
        'GROVE_ERR_UNKNOWN_FEATURE',
      ],
      [
        {
          outputs: [{ name: 'nope' }],
          inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP64', data: [1, 2, 3] }],
        },
        'GROVE_ERR_UNKNOWN_OUTPUT',
      ],
    ];
    for (const [body, code] of cases)
      expect(
        codeOf(() => parse(body)),
        JSON.stringify(body),
      ).toBe(code);
    expect(
      codeOf(() =>
        parse({ inputs: [{ name: 'x', shape: [5, 3], datatype: 'FP64', data: new Array(15).fill(0) }] }, 4),
      ),
    ).toBe('GROVE_ERR_TOO_MANY_ROWS');
  });

  it('keeps __proto__ and constructor keys harmless', () => {
    const body = JSON.parse(
      '{"__proto__":{"polluted":1},"constructor":{"x":1},"inputs":[{"name":"x","shape":[1,3],"datatype":"FP64","data":[1,2,3],"__proto__":1}]}',
    );
    expect(parse(body).rows).toBe(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
