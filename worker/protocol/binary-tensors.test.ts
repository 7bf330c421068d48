import { describe, expect, it } from 'vitest';
import { GroveError } from '../../shared/errors/grove-error.js';
import { parseBinaryRequest } from './binary-tensors.js';
import { fakeVersion } from './fake-version.test-helper.js';
import { parseInferRequest } from './tensor-input.js';

function binaryBody(header: object, ...parts: Buffer[]): { body: Buffer; len: number } {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...parts]), len: json.length };
}

describe('binary tensor data (tritonclient)', () => {
  it('reads FP32 and INT64 inputs from the bytes after the JSON header', () => {
    const f32 = Buffer.from(new Float32Array([0.1, 2, Number.NaN]).buffer);
    const i64 = Buffer.from(new BigInt64Array([7n, -3n, 5n]).buffer);
    const { body, len } = binaryBody(
      {
        inputs: [
          { name: 'f0', shape: [3], datatype: 'FP32', parameters: { binary_data_size: f32.length } },
          { name: 'f2', shape: [3, 1], datatype: 'INT64', parameters: { binary_data_size: i64.length } },
        ],
      },
      f32,
      i64,
    );
    const req = parseBinaryRequest(body, len);
    const p = parseInferRequest(req, fakeVersion(3), 100, 50);
    expect(p.rows).toBe(3);
    expect(p.input![0]).toBe(Math.fround(0.1));
    expect(p.input![2]).toBe(7);
    expect(Number.isNaN(p.input![6]!)).toBe(true);
    expect(p.input![8]).toBe(5);
  });

  it('refuses sizes that do not fit and trailing bytes', () => {
    const f64 = Buffer.from(new Float64Array([1, 2, 3]).buffer);
    const hdr = {
      inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP64', parameters: { binary_data_size: 24 } }],
    };
    expect(() => parseBinaryRequest(binaryBody(hdr, f64.subarray(0, 16)).body, binaryBody(hdr).len)).toThrow(
      GroveError,
    );
    const extra = binaryBody(hdr, f64, Buffer.from([1]));
    expect(() => parseBinaryRequest(extra.body, extra.len)).toThrow(/bytes after/);
    expect(() => parseBinaryRequest(Buffer.from('{}'), 99)).toThrow(GroveError);
    const ok = binaryBody(hdr, f64);
    expect([...parseInferRequest(parseBinaryRequest(ok.body, ok.len), fakeVersion(3), 10, 5).input!]).toEqual(
      [1, 2, 3],
    );
  });
});
