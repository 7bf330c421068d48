// The small messages of GRPCInferenceService (open_inference_grpc.proto): health and metadata
// requests and answers, read and written with the same wire code as ModelInfer.
import {
  int64Size,
  ProtoReader,
  ProtoWriter,
  stringFieldSize,
  varintSize,
  WIRE_LEN,
} from './protobuf-wire.js';

/** ModelReadyRequest and ModelMetadataRequest: name = 1, version = 2 ('' = the server's choice). */
export function decodeModelRef(buf: Uint8Array): { name: string; version: string } {
  let name = '';
  let version = '';
  const r = new ProtoReader(buf);
  while (!r.done()) {
    const k = r.key();
    const f = k >>> 3;
    const w = k & 7;
    if (f === 1 && w === WIRE_LEN) name = r.string();
    else if (f === 2 && w === WIRE_LEN) version = r.string();
    else r.skip(w);
  }
  return { name, version };
}

const TRUE = Buffer.from([0x08, 0x01]);
const FALSE = Buffer.alloc(0);

/** ServerLiveResponse, ServerReadyResponse, ModelReadyResponse: one bool in field 1. */
export function encodeBool(value: boolean): Buffer {
  return value ? TRUE : FALSE;
}

export interface ServerMetadata {
  name: string;
  version: string;
  extensions: readonly string[];
}

function stringsSize(field: number, xs: readonly string[]): number {
  let n = 0;
  for (const s of xs) n += stringFieldSize(field, Buffer.byteLength(s));
  return n;
}

function writeString(w: ProtoWriter, field: number, s: string): void {
  w.string(field, s, Buffer.byteLength(s));
}

export function encodeServerMetadata(m: ServerMetadata): Buffer {
  const w = new ProtoWriter(
    stringFieldSize(1, Buffer.byteLength(m.name)) +
      stringFieldSize(2, Buffer.byteLength(m.version)) +
      stringsSize(3, m.extensions),
  );
  writeString(w, 1, m.name);
  writeString(w, 2, m.version);
  for (const e of m.extensions) writeString(w, 3, e);
  return w.finish();
}

export interface TensorMetadata {
  name: string;
  datatype: string;
  /** -1 marks a variable-size dimension. */
  shape: readonly number[];
}

export interface ModelMetadata {
  name: string;
  versions: readonly string[];
  platform: string;
  inputs: readonly TensorMetadata[];
  outputs: readonly TensorMetadata[];
}

function tensorSize(t: TensorMetadata): { size: number; shape: number } {
  let shape = 0;
  for (const d of t.shape) shape += int64Size(d);
  const size =
    stringFieldSize(1, Buffer.byteLength(t.name)) +
    stringFieldSize(2, Buffer.byteLength(t.datatype)) +
    (t.shape.length === 0 ? 0 : 1 + varintSize(shape) + shape);
  return { size, shape };
}

export function encodeModelMetadata(m: ModelMetadata): Buffer {
  const tensors = [...m.inputs.map((t) => [4, t] as const), ...m.outputs.map((t) => [5, t] as const)];
  const sizes = tensors.map(([, t]) => tensorSize(t));
  let size =
    stringFieldSize(1, Buffer.byteLength(m.name)) +
    stringsSize(2, m.versions) +
    stringFieldSize(3, Buffer.byteLength(m.platform));
  for (const s of sizes) size += 1 + varintSize(s.size) + s.size;
  const w = new ProtoWriter(size);
  writeString(w, 1, m.name);
  for (const v of m.versions) writeString(w, 2, v);
  writeString(w, 3, m.platform);
  tensors.forEach(([field, t], i) => {
    const s = sizes[i]!;
    w.key(field, WIRE_LEN);
    w.varint(s.size);
    writeString(w, 1, t.name);
    writeString(w, 2, t.datatype);
    if (t.shape.length > 0) {
      w.key(3, WIRE_LEN);
      w.varint(s.shape);
      for (const d of t.shape) w.int64(d);
    }
  });
  return w.finish();
}
