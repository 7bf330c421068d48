// Triton's binary tensor data extension (server/docs/protocol/extension_binary_data.md), which
// tritonclient's HTTP client uses by default: the body is the JSON inference request followed by
// raw little-endian tensor bytes; the header `Inference-Header-Content-Length` gives the JSON
// length, and each input with `parameters.binary_data_size` takes that many bytes, in input order.
// The bytes become the input's `data` so the ordinary parser validates shape and datatype.
import { BadInputError } from '../../shared/errors/grove-error.js';
import { decodeTensorBytes } from '../../shared/protocol/tensor-bytes.js';

function bad(msg: string): never {
  throw new BadInputError(msg, 'GROVE_ERR_BAD_BINARY');
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
    (t as { data?: unknown }).data = decodeTensorBytes(
      typeof dt === 'string' ? dt : '',
      body.subarray(at, at + size),
    );
    at += size;
  }
  if (at !== body.length) bad(`${body.length - at} bytes after the last binary input`);
  return req;
}
