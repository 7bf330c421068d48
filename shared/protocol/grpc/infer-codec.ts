// ModelInferRequest in, ModelInferResponse out (open_inference_grpc.proto, the field numbers
// below). A request becomes the same object the Open Inference Protocol's REST body parses to
// (`{id, parameters, outputs, inputs: [{name, datatype, shape, data}]}`), with each input's values
// taken from the `contents` field of its datatype or from its raw_input_contents entry, so one
// parser (the worker's) validates shapes, datatypes and features for REST and gRPC alike.
// `peekInferTarget` reads only the model name and version, for a forwarder that passes the
// message on unchanged.
import { BadInputError } from '../../errors/grove-error.js';
import { decodeTensorBytes } from '../tensor-bytes.js';
import {
  int64Size,
  ProtoReader,
  ProtoWriter,
  stringFieldSize,
  varintSize,
  WIRE_FIXED32,
  WIRE_FIXED64,
  WIRE_LEN,
  WIRE_VARINT,
} from './protobuf-wire.js';

export type ParameterValue = boolean | number | string;
export type Parameters = Record<string, ParameterValue>;

export interface InferInputMessage {
  name: string;
  datatype: string;
  shape: number[];
  parameters: Parameters;
  /** Extent of the `contents` message in the request buffer, or null. */
  contents: [number, number] | null;
}

export interface DecodedInferRequest {
  modelName: string;
  /** '' when the client left the choice to the server. */
  modelVersion: string;
  id: string;
  parameters: Parameters;
  inputs: InferInputMessage[];
  outputs: { name: string; parameters: Parameters }[];
  rawInputContents: Uint8Array[];
  buf: Uint8Array;
}

function bad(
  msg: string,
  code: 'GROVE_ERR_BAD_INPUT' | 'GROVE_ERR_BAD_DATATYPE' = 'GROVE_ERR_BAD_INPUT',
): never {
  throw new BadInputError(msg, code);
}

/** InferParameter: oneof bool_param = 1, int64_param = 2, string_param = 3, double_param = 4, uint64_param = 5. */
function readParameter(r: ProtoReader): ParameterValue | undefined {
  let v: ParameterValue | undefined;
  while (!r.done()) {
    const k = r.key();
    const f = k >>> 3;
    const w = k & 7;
    if (f === 1 && w === WIRE_VARINT) v = r.bool();
    else if (f === 2 && w === WIRE_VARINT) v = r.int64();
    else if (f === 3 && w === WIRE_LEN) v = r.string();
    else if (f === 4 && w === WIRE_FIXED64) v = r.double();
    else if (f === 5 && w === WIRE_VARINT) v = r.uint64();
    else r.skip(w);
  }
  return v;
}

/** One entry of a map<string, InferParameter> (key = 1, value = 2). */
function readMapEntry(r: ProtoReader, into: Parameters): void {
  let key = '';
  let value: ParameterValue | undefined;
  while (!r.done()) {
    const k = r.key();
    const f = k >>> 3;
    const w = k & 7;
    if (f === 1 && w === WIRE_LEN) key = r.string();
    else if (f === 2 && w === WIRE_LEN) {
      const [s, e] = r.span();
      value = readParameter(r.sub(s, e));
    } else r.skip(w);
  }
  if (value !== undefined) into[key] = value;
}

function readInput(r: ProtoReader): InferInputMessage {
  const t: InferInputMessage = { name: '', datatype: '', shape: [], parameters: {}, contents: null };
  while (!r.done()) {
    const k = r.key();
    const f = k >>> 3;
    const w = k & 7;
    if (f === 1 && w === WIRE_LEN) t.name = r.string();
    else if (f === 2 && w === WIRE_LEN) t.datatype = r.string();
    else if (f === 3 && w === WIRE_LEN) {
      const [s, e] = r.span();
      const p = r.sub(s, e);
      while (!p.done()) t.shape.push(p.int64());
    } else if (f === 3 && w === WIRE_VARINT) t.shape.push(r.int64());
    else if (f === 4 && w === WIRE_LEN) {
      const [s, e] = r.span();
      readMapEntry(r.sub(s, e), t.parameters);
    } else if (f === 5 && w === WIRE_LEN) t.contents = r.span();
    else r.skip(w);
  }
  return t;
}

function readRequestedOutput(r: ProtoReader): { name: string; parameters: Parameters } {
  const o = { name: '', parameters: {} as Parameters };
  while (!r.done()) {
    const k = r.key();
    const f = k >>> 3;
    const w = k & 7;
    if (f === 1 && w === WIRE_LEN) o.name = r.string();
    else if (f === 2 && w === WIRE_LEN) {
      const [s, e] = r.span();
      readMapEntry(r.sub(s, e), o.parameters);
    } else r.skip(w);
  }
  return o;
}

export function decodeInferRequest(buf: Uint8Array): DecodedInferRequest {
  const d: DecodedInferRequest = {
    modelName: '',
    modelVersion: '',
    id: '',
    parameters: {},
    inputs: [],
    outputs: [],
    rawInputContents: [],
    buf,
  };
  const r = new ProtoReader(buf);
  while (!r.done()) {
    const k = r.key();
    const f = k >>> 3;
    const w = k & 7;
    if (w === WIRE_LEN && f >= 1 && f <= 7) {
      if (f === 1) d.modelName = r.string();
      else if (f === 2) d.modelVersion = r.string();
      else if (f === 3) d.id = r.string();
      else if (f === 7) d.rawInputContents.push(r.bytes());
      else {
        const [s, e] = r.span();
        const sub = r.sub(s, e);
        if (f === 4) readMapEntry(sub, d.parameters);
        else if (f === 5) d.inputs.push(readInput(sub));
        else d.outputs.push(readRequestedOutput(sub));
      }
    } else r.skip(w);
  }
  return d;
}

/** The model name and version of a ModelInferRequest, without decoding its tensors. */
export function peekInferTarget(buf: Uint8Array): { modelName: string; modelVersion: string } {
  let modelName = '';
  let modelVersion = '';
  const r = new ProtoReader(buf);
  while (!r.done()) {
    const k = r.key();
    const f = k >>> 3;
    const w = k & 7;
    if (f === 1 && w === WIRE_LEN) modelName = r.string();
    else if (f === 2 && w === WIRE_LEN) modelVersion = r.string();
    else r.skip(w);
  }
  return { modelName, modelVersion };
}

/** The InferTensorContents field each datatype's values travel in. */
const CONTENTS_FIELD: Readonly<Record<string, number>> = {
  BOOL: 1,
  INT8: 2,
  INT16: 2,
  INT32: 2,
  INT64: 3,
  UINT8: 4,
  UINT16: 4,
  UINT32: 4,
  UINT64: 5,
  FP32: 6,
  FP64: 7,
  BYTES: 8,
};
const CONTENTS_NAME = [
  '',
  'bool_contents',
  'int_contents',
  'int64_contents',
  'uint_contents',
  'uint64_contents',
  'fp32_contents',
  'fp64_contents',
  'bytes_contents',
];

function readScalar(r: ProtoReader, field: number): unknown {
  switch (field) {
    case 1:
      return r.bool();
    case 2:
      return r.int32();
    case 3:
      return r.int64();
    case 4:
      return r.uint32();
    case 5:
      return r.uint64();
    case 6:
      return r.float();
    default:
      return r.double();
  }
}

const SCALAR_WIRE = [
  0,
  WIRE_VARINT,
  WIRE_VARINT,
  WIRE_VARINT,
  WIRE_VARINT,
  WIRE_VARINT,
  WIRE_FIXED32,
  WIRE_FIXED64,
];

/** The values of one input's `contents`, from the one field its datatype allows (packed or not). */
function contentsValues(buf: Uint8Array, t: InferInputMessage, i: number): unknown[] {
  const want = CONTENTS_FIELD[t.datatype];
  if (want === undefined || want === 8) {
    return bad(
      `inputs[${i}].datatype '${t.datatype.slice(0, 20)}' cannot be sent as contents (use FP32, FP64, INTn, UINTn or BOOL${t.datatype === 'FP16' ? '; FP16 goes in raw_input_contents' : ''})`,
      'GROVE_ERR_BAD_DATATYPE',
    );
  }
  const out: unknown[] = [];
  const r = new ProtoReader(buf, t.contents![0], t.contents![1]);
  while (!r.done()) {
    const k = r.key();
    const f = k >>> 3;
    const w = k & 7;
    if (f !== want) {
      if (f >= 1 && f <= 8) {
        bad(
          `inputs[${i}] (${t.datatype}) carries values in ${CONTENTS_NAME[f]}; ${t.datatype} values go in ${CONTENTS_NAME[want]}`,
          'GROVE_ERR_BAD_DATATYPE',
        );
      }
      r.skip(w);
      continue;
    }
    if (w === WIRE_LEN) {
      const [s, e] = r.span();
      const p = r.sub(s, e);
      while (!p.done()) out.push(readScalar(p, f));
    } else if (w === SCALAR_WIRE[f]) out.push(readScalar(r, f));
    else r.skip(w);
  }
  return out;
}

export interface InferBodyInput {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}

/** The REST-shaped request (what `POST .../infer` parses to) of a decoded gRPC request. */
export interface InferBody {
  id?: string;
  parameters: Parameters;
  outputs?: { name: string }[];
  inputs: InferBodyInput[];
}

export function inferRequestBody(d: DecodedInferRequest): InferBody {
  const raw = d.rawInputContents;
  if (raw.length > 0) {
    if (raw.length !== d.inputs.length) {
      bad(`raw_input_contents has ${raw.length} entries for ${d.inputs.length} inputs; send one per input`);
    }
    for (let i = 0; i < d.inputs.length; i++) {
      if (d.inputs[i]!.contents !== null) {
        bad(`inputs[${i}] has contents although the request uses raw_input_contents; use one or the other`);
      }
    }
  }
  const inputs: InferBodyInput[] = new Array(d.inputs.length);
  for (let i = 0; i < d.inputs.length; i++) {
    const t = d.inputs[i]!;
    let data: unknown[];
    if (raw.length > 0) data = decodeTensorBytes(t.datatype, raw[i]!);
    else if (t.contents !== null) data = contentsValues(d.buf, t, i);
    else data = [];
    inputs[i] = { name: t.name, datatype: t.datatype, shape: t.shape, data };
  }
  const body: InferBody = { parameters: d.parameters, inputs };
  if (d.id !== '') body.id = d.id;
  if (d.outputs.length > 0) body.outputs = d.outputs.map((o) => ({ name: o.name }));
  return body;
}

/** An FP64 output tensor of a response. */
export interface InferOutputTensor {
  name: string;
  shape: readonly number[];
  values: Float64Array;
}

/** model_name (1) and model_version (2), encoded once per served version and reused. */
export function encodeResponseHead(modelName: string, modelVersion: string): Buffer {
  const n = Buffer.byteLength(modelName);
  const v = Buffer.byteLength(modelVersion);
  const w = new ProtoWriter(stringFieldSize(1, n) + stringFieldSize(2, v));
  w.string(1, modelName, n);
  w.string(2, modelVersion, v);
  return w.finish();
}

const FP64 = Buffer.from('FP64');
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function writeDoubles(w: ProtoWriter, values: Float64Array): void {
  if (LITTLE_ENDIAN) w.raw(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  else for (let i = 0; i < values.length; i++) w.double(values[i]!);
}

/**
 * ModelInferResponse with FP64 outputs: values in `contents.fp64_contents` (packed), or, with
 * `raw`, in raw_output_contents (6) in output order, the tensors then carrying no contents.
 */
export function encodeInferResponse(
  head: Uint8Array,
  id: string,
  outputs: readonly InferOutputTensor[],
  raw: boolean,
): Buffer {
  const idLen = id === '' ? 0 : Buffer.byteLength(id);
  let size = head.length + (idLen === 0 ? 0 : stringFieldSize(3, idLen));
  const tensorSizes: number[] = [];
  const shapeSizes: number[] = [];
  const nameLens: number[] = [];
  for (const o of outputs) {
    const nameLen = Buffer.byteLength(o.name);
    let shapeLen = 0;
    for (const d of o.shape) shapeLen += int64Size(d);
    const dataLen = o.values.length * 8;
    let t = stringFieldSize(1, nameLen) + stringFieldSize(2, FP64.length);
    t += 1 + varintSize(shapeLen) + shapeLen;
    if (!raw) {
      const contents = 1 + varintSize(dataLen) + dataLen;
      t += 1 + varintSize(contents) + contents;
    }
    size += 1 + varintSize(t) + t;
    if (raw) size += 1 + varintSize(dataLen) + dataLen;
    tensorSizes.push(t);
    shapeSizes.push(shapeLen);
    nameLens.push(nameLen);
  }
  const w = new ProtoWriter(size);
  w.raw(head);
  if (idLen !== 0) w.string(3, id, idLen);
  for (let i = 0; i < outputs.length; i++) {
    const o = outputs[i]!;
    w.key(5, WIRE_LEN);
    w.varint(tensorSizes[i]!);
    w.string(1, o.name, nameLens[i]!);
    w.key(2, WIRE_LEN);
    w.varint(FP64.length);
    w.raw(FP64);
    w.key(3, WIRE_LEN);
    w.varint(shapeSizes[i]!);
    for (const d of o.shape) w.int64(d);
    if (!raw) {
      const dataLen = o.values.length * 8;
      w.key(5, WIRE_LEN);
      w.varint(1 + varintSize(dataLen) + dataLen);
      w.key(7, WIRE_LEN);
      w.varint(dataLen);
      writeDoubles(w, o.values);
    }
  }
  if (raw) {
    for (const o of outputs) {
      w.key(6, WIRE_LEN);
      w.varint(o.values.length * 8);
      writeDoubles(w, o.values);
    }
  }
  return w.finish();
}
