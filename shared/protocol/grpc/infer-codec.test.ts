// The hand-written codec against protobufjs (through @grpc/proto-loader, from the same .proto):
// what a generated client encodes, grove decodes; what grove encodes, a generated client reads.
import { loadSync, type MethodDefinition } from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import type { GroveError } from '../../errors/grove-error.js';
import {
  decodeInferRequest,
  encodeInferResponse,
  encodeResponseHead,
  inferRequestBody,
  peekInferTarget,
} from './infer-codec.js';
import { PROTO_FILE } from './proto-client.js';
import { decodeModelRef, encodeBool, encodeModelMetadata, encodeServerMetadata } from './service-messages.js';

const def = loadSync(PROTO_FILE, { keepCase: true, longs: Number, defaults: true, oneofs: true });
const svc = def['inference.GRPCInferenceService'] as Record<string, MethodDefinition<object, object>>;
const encodeReq = (name: string, o: object): Buffer => svc[name]!.requestSerialize(o);
const decodeRes = (name: string, b: Buffer): any => svc[name]!.responseDeserialize(b);

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as GroveError).code;
  }
  return 'no error';
}

describe('ModelInferRequest decoding', () => {
  it('reads names, ids, parameters, shapes and typed contents of every datatype', () => {
    const buf = encodeReq('ModelInfer', {
      model_name: 'churn',
      model_version: '12',
      id: 'req-é',
      parameters: { raw: { bool_param: true }, n: { int64_param: -5 }, s: { string_param: 'x' } },
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [2, 2], contents: { fp32_contents: [0.1, -2, 3.5, 1e30] } },
        { name: 'b', datatype: 'FP64', shape: [3], contents: { fp64_contents: [0.1, Number.NaN, -0] } },
        { name: 'c', datatype: 'INT32', shape: [2], contents: { int_contents: [-7, 2147483647] } },
        { name: 'd', datatype: 'INT64', shape: [2], contents: { int64_contents: [-1, 9007199254740991] } },
        { name: 'e', datatype: 'UINT32', shape: [1], contents: { uint_contents: [4294967295] } },
        { name: 'f', datatype: 'UINT64', shape: [1], contents: { uint64_contents: [2 ** 40] } },
        { name: 'g', datatype: 'BOOL', shape: [2], contents: { bool_contents: [true, false] } },
      ],
      outputs: [{ name: 'output-0' }],
    });
    expect(peekInferTarget(buf)).toEqual({ modelName: 'churn', modelVersion: '12' });
    const d = decodeInferRequest(buf);
    expect([d.modelName, d.modelVersion, d.id]).toEqual(['churn', '12', 'req-é']);
    expect(d.parameters).toEqual({ raw: true, n: -5, s: 'x' });
    const body = inferRequestBody(d);
    expect(body.id).toBe('req-é');
    expect(body.outputs).toEqual([{ name: 'output-0' }]);
    expect(body.inputs.map((t) => t.shape)).toEqual([[2, 2], [3], [2], [2], [1], [1], [2]]);
    expect(body.inputs[0]!.data).toEqual([Math.fround(0.1), -2, 3.5, Math.fround(1e30)]);
    expect(body.inputs[1]!.data[0]).toBe(0.1);
    expect(Number.isNaN(body.inputs[1]!.data[1])).toBe(true);
    expect(Object.is(body.inputs[1]!.data[2], -0)).toBe(true);
    expect(body.inputs[2]!.data).toEqual([-7, 2147483647]);
    expect(body.inputs[3]!.data).toEqual([-1, 9007199254740991]);
    expect(body.inputs[4]!.data).toEqual([4294967295]);
    expect(body.inputs[5]!.data).toEqual([2 ** 40]);
    expect(body.inputs[6]!.data).toEqual([true, false]);
  });

  it('reads raw_input_contents little-endian, FP16 included', () => {
    const f64 = Buffer.from(new Float64Array([1.5, -2.25]).buffer);
    const f16 = Buffer.from([0x00, 0x3c, 0x00, 0xc0]); // 1.0, -2.0
    const d = decodeInferRequest(
      encodeReq('ModelInfer', {
        model_name: 'm',
        inputs: [
          { name: 'x', datatype: 'FP64', shape: [2] },
          { name: 'y', datatype: 'FP16', shape: [2] },
        ],
        raw_input_contents: [f64, f16],
      }),
    );
    const body = inferRequestBody(d);
    expect(body.inputs[0]!.data).toEqual([1.5, -2.25]);
    expect(body.inputs[1]!.data).toEqual([1, -2]);
  });

  it('refuses contents in the wrong field, mixed raw and typed contents, and a raw count mismatch', () => {
    const wrongField = encodeReq('ModelInfer', {
      model_name: 'm',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1], contents: { fp64_contents: [1] } }],
    });
    expect(codeOf(() => inferRequestBody(decodeInferRequest(wrongField)))).toBe('GROVE_ERR_BAD_DATATYPE');
    const mixed = encodeReq('ModelInfer', {
      model_name: 'm',
      inputs: [{ name: 'x', datatype: 'FP64', shape: [1], contents: { fp64_contents: [1] } }],
      raw_input_contents: [Buffer.alloc(8)],
    });
    expect(codeOf(() => inferRequestBody(decodeInferRequest(mixed)))).toBe('GROVE_ERR_BAD_INPUT');
    const count = encodeReq('ModelInfer', {
      model_name: 'm',
      inputs: [
        { name: 'x', datatype: 'FP64', shape: [1] },
        { name: 'y', datatype: 'FP64', shape: [1] },
      ],
      raw_input_contents: [Buffer.alloc(8)],
    });
    expect(codeOf(() => inferRequestBody(decodeInferRequest(count)))).toBe('GROVE_ERR_BAD_INPUT');
    const fp16Typed = encodeReq('ModelInfer', {
      model_name: 'm',
      inputs: [{ name: 'x', datatype: 'FP16', shape: [1], contents: { fp32_contents: [1] } }],
    });
    expect(codeOf(() => inferRequestBody(decodeInferRequest(fp16Typed)))).toBe('GROVE_ERR_BAD_DATATYPE');
  });

  it('throws GROVE_ERR_BAD_PROTOBUF on truncated or malformed messages, never reading past the buffer', () => {
    const good = encodeReq('ModelInfer', {
      model_name: 'churn',
      inputs: [{ name: 'x', datatype: 'FP64', shape: [1, 3], contents: { fp64_contents: [1, 2, 3] } }],
    });
    for (let cut = 1; cut < good.length; cut++) {
      const part = good.subarray(0, cut);
      const code = codeOf(() => inferRequestBody(decodeInferRequest(part)));
      expect(['GROVE_ERR_BAD_PROTOBUF', 'no error']).toContain(code);
    }
    expect(codeOf(() => decodeInferRequest(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])))).toBe(
      'GROVE_ERR_BAD_PROTOBUF',
    );
    expect(codeOf(() => decodeInferRequest(Buffer.from([0x0b])))).toBe('GROVE_ERR_BAD_PROTOBUF'); // group
    expect(codeOf(() => decodeInferRequest(Buffer.alloc(12, 0xff)))).toBe('GROVE_ERR_BAD_PROTOBUF');
    // Unknown fields of every wire type are skipped.
    const unknown = Buffer.concat([Buffer.from([0xa0, 0x06, 0x01, 0xa9, 0x06]), Buffer.alloc(8), good]);
    expect(decodeInferRequest(unknown).modelName).toBe('churn');
  });
});

describe('ModelInferResponse encoding', () => {
  it('is read by a generated client: typed contents, shapes, id', () => {
    const values = new Float64Array([0.25, Number.NaN, -1e300, 7, 8, 9]);
    const buf = encodeInferResponse(
      encodeResponseHead('churn', '3'),
      'abc',
      [{ name: 'output-0', shape: [3, 2], values }],
      false,
    );
    const r = decodeRes('ModelInfer', buf);
    expect([r.model_name, r.model_version, r.id]).toEqual(['churn', '3', 'abc']);
    expect(r.outputs).toHaveLength(1);
    expect(r.outputs[0].name).toBe('output-0');
    expect(r.outputs[0].datatype).toBe('FP64');
    expect(r.outputs[0].shape).toEqual([3, 2]);
    const got = r.outputs[0].contents.fp64_contents as number[];
    expect(got[0]).toBe(0.25);
    expect(Number.isNaN(got[1])).toBe(true);
    expect(got.slice(2)).toEqual([-1e300, 7, 8, 9]);
    expect(r.raw_output_contents).toEqual([]);
  });

  it('puts the values in raw_output_contents when asked', () => {
    const values = new Float64Array([1, 2, 3]);
    const buf = encodeInferResponse(
      encodeResponseHead('m', '1'),
      '',
      [{ name: 'o', shape: [3], values }],
      true,
    );
    const r = decodeRes('ModelInfer', buf);
    expect(r.outputs[0].contents).toBeNull();
    expect(r.id).toBe('');
    const raw = r.raw_output_contents[0] as Buffer;
    expect(
      Array.from(new Float64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length))),
    ).toEqual([1, 2, 3]);
  });
});

describe('health and metadata messages', () => {
  it('round-trips through a generated client', () => {
    expect(decodeRes('ServerLive', encodeBool(true)).live).toBe(true);
    expect(decodeRes('ModelReady', encodeBool(false)).ready).toBe(false);
    expect(decodeModelRef(encodeReq('ModelReady', { name: 'churn', version: '2' }))).toEqual({
      name: 'churn',
      version: '2',
    });
    expect(
      decodeRes(
        'ServerMetadata',
        encodeServerMetadata({ name: 'grove', version: '1.2.3', extensions: ['a', 'b'] }),
      ),
    ).toEqual({
      name: 'grove',
      version: '1.2.3',
      extensions: ['a', 'b'],
    });
    const md = decodeRes(
      'ModelMetadata',
      encodeModelMetadata({
        name: 'churn',
        versions: ['1', '2'],
        platform: 'xgboost_json',
        inputs: [{ name: 'input-0', datatype: 'FP32', shape: [-1, 20] }],
        outputs: [{ name: 'output-0', datatype: 'FP64', shape: [-1] }],
      }),
    );
    expect(md).toEqual({
      name: 'churn',
      versions: ['1', '2'],
      platform: 'xgboost_json',
      inputs: [{ name: 'input-0', datatype: 'FP32', shape: [-1, 20] }],
      outputs: [{ name: 'output-0', datatype: 'FP64', shape: [-1] }],
    });
  });
});
