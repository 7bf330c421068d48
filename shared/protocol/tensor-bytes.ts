// Raw tensor bytes as the Open Inference Protocol lays them out (inference_grpc.md, Tensor Data;
// Triton's binary tensor data extension): little-endian, row-major, no padding, the width each
// datatype takes. Both the HTTP binary extension and gRPC's raw_input_contents decode through
// here into plain values, so the ordinary request parser validates shape and datatype once.
import { BadInputError } from '../errors/grove-error.js';

/** Bytes per value of each fixed-width datatype (BYTES has no fixed width and is not a number). */
export const DATATYPE_WIDTH: Readonly<Record<string, number>> = {
  BOOL: 1,
  INT8: 1,
  UINT8: 1,
  INT16: 2,
  UINT16: 2,
  FP16: 2,
  INT32: 4,
  UINT32: 4,
  FP32: 4,
  INT64: 8,
  UINT64: 8,
  FP64: 8,
};

function bad(msg: string): never {
  throw new BadInputError(msg, 'GROVE_ERR_BAD_BINARY');
}

/** IEEE 754 half precision to a double (subnormals, infinities and NaN included). */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Decodes `bytes` as values of `datatype` (BOOL as true/false, 64-bit integers as doubles). */
export function decodeTensorBytes(datatype: string, bytes: Uint8Array): unknown[] {
  const w = DATATYPE_WIDTH[datatype];
  if (w === undefined) bad(`binary data is not supported for datatype '${datatype.slice(0, 20)}'`);
  if (bytes.length % w !== 0)
    bad(`binary data of ${bytes.length} bytes is not a whole number of ${datatype} values`);
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = b.length / w;
  const out = new Array<unknown>(n);
  switch (datatype) {
    case 'BOOL':
      for (let i = 0; i < n; i++) out[i] = b[i] !== 0;
      break;
    case 'INT8':
      for (let i = 0; i < n; i++) out[i] = b.readInt8(i);
      break;
    case 'UINT8':
      for (let i = 0; i < n; i++) out[i] = b[i];
      break;
    case 'INT16':
      for (let i = 0; i < n; i++) out[i] = b.readInt16LE(i * 2);
      break;
    case 'UINT16':
      for (let i = 0; i < n; i++) out[i] = b.readUInt16LE(i * 2);
      break;
    case 'FP16':
      for (let i = 0; i < n; i++) out[i] = halfToNumber(b.readUInt16LE(i * 2));
      break;
    case 'INT32':
      for (let i = 0; i < n; i++) out[i] = b.readInt32LE(i * 4);
      break;
    case 'UINT32':
      for (let i = 0; i < n; i++) out[i] = b.readUInt32LE(i * 4);
      break;
    case 'FP32':
      for (let i = 0; i < n; i++) out[i] = b.readFloatLE(i * 4);
      break;
    case 'INT64':
      for (let i = 0; i < n; i++) out[i] = Number(b.readBigInt64LE(i * 8));
      break;
    case 'UINT64':
      for (let i = 0; i < n; i++) out[i] = Number(b.readBigUInt64LE(i * 8));
      break;
    default:
      for (let i = 0; i < n; i++) out[i] = b.readDoubleLE(i * 8);
  }
  return out;
}
