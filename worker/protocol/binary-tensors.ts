// Triton's binary tensor data extension (server/docs/protocol/extension_binary_data.md), which
// tritonclient's HTTP client uses by default: the body is the JSON inference request followed by
// raw little-endian tensor bytes; the header `Inference-Header-Content-Length` gives the JSON
// length, and each input with `parameters.binary_data_size` takes that many bytes, in input order.
// The bytes become the input's `data` so the ordinary parser validates shape and datatype.
import { BadInputError } from '../../shared/errors/grove-error.js';

const WIDTH: Record<string, number> = {
  BOOL: 1,
  INT8: 1,
  UINT8: 1,
  INT16: 2,
  UINT16: 2,
  INT32: 4,
  UINT32: 4,
  INT64: 8,
  UINT64: 8,
  FP32: 4,
  FP64: 8,
};

function bad(msg: string): never {
  throw new BadInputError(msg, 'GROVE_ERR_BAD_BINARY');
}

function decode(datatype: string, bytes: Buffer): unknown[] {
  const w = WIDTH[datatype];
  if (w === undefined) bad(`binary data is not supported for datatype '${datatype.slice(0, 20)}'`);
  if (bytes.length % w !== 0)
    bad(`binary data of ${bytes.length} bytes is not a whole number of ${datatype} values`);
  const n = bytes.length / w;
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) {
    const o = i * w;
    switch (datatype) {
      case 'BOOL':
        out[i] = bytes[o] !== 0;
        break;
      case 'INT8':
        out[i] = bytes.readInt8(o);
        break;
      case 'UINT8':
        out[i] = bytes[o];
        break;
      case 'INT16':
        out[i] = bytes.readInt16LE(o);
        break;
      case 'UINT16':
        out[i] = bytes.readUInt16LE(o);
        break;
      case 'INT32':
        out[i] = bytes.readInt32LE(o);
        break;
      case 'UINT32':
        out[i] = bytes.readUInt32LE(o);
        break;
      case 'INT64':
        out[i] = Number(bytes.readBigInt64LE(o));
        break;
      case 'UINT64':
        out[i] = Number(bytes.readBigUInt64LE(o));
        break;
      case 'FP32':
        out[i] = bytes.readFloatLE(o);
        break;
      default:
        out[i] = bytes.readDoubleLE(o);
    }
  }
  return out;
}

/** Splits a binary-extension body into the JSON request with every binary input's data filled in. */
export function parseBinaryRequest(body: Buffer, jsonLength: number): unknown {
  if (!Number.isInteger(jsonLength) || jsonLength < 0 || jsonLength > body.length) {
    bad(`Inference-Header-Content-Length ${jsonLength} does not fit a body of ${body.length} bytes`);
  }
  let req: unknown;
  try {
    req = JSON.parse(body.toString('utf8', 0, jsonLength));
  } catch {
    throw new BadInputError('inference header is not valid JSON', 'GROVE_ERR_BAD_JSON');
  }
  const inputs = (req as { inputs?: unknown } | null)?.inputs;
  if (!Array.isArray(inputs)) return req;
  let at = jsonLength;
  for (const t of inputs) {
    if (t === null || typeof t !== 'object') continue;
    const p = (t as { parameters?: unknown }).parameters;
    const size =
      p !== null && typeof p === 'object' ? (p as Record<string, unknown>).binary_data_size : undefined;
    if (size === undefined) continue;
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0 || at + size > body.length) {
      bad('binary_data_size does not fit the body');
    }
    const dt = (t as { datatype?: unknown }).datatype;
    (t as { data?: unknown }).data = decode(typeof dt === 'string' ? dt : '', body.subarray(at, at + size));
    at += size;
  }
  if (at !== body.length) bad(`${body.length - at} bytes after the last binary input`);
  return req;
}
