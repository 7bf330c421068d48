// grove's own model file: a 64-byte header, then the model container's bytes exactly as they sit
// in memory (shared/runtime/container.ts), so loading is one read into a SharedArrayBuffer.
//
//   0   6 bytes  magic 'G','R','O','V','E',0
//   6   u16      file format version (GROVE_FILE_VERSION)
//   8   u64      payload length in bytes (the container)
//   16  32 bytes sha256 of the payload
//   48  u32      flags (0)
//   52  12 bytes reserved (0)
//   64  payload
// Little-endian. The checksum catches a torn copy or a flipped bit before the model serves.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { ChecksumError, ModelFormatError, TruncatedModelError } from '../../errors/grove-error.js';

export const GROVE_MAGIC = Uint8Array.of(0x47, 0x52, 0x4f, 0x56, 0x45, 0x00);
export const GROVE_FILE_VERSION = 1;
export const GROVE_HEADER_BYTES = 64;

export function isGroveFile(bytes: Uint8Array): boolean {
  if (bytes.length < GROVE_MAGIC.length) return false;
  for (let i = 0; i < GROVE_MAGIC.length; i++) if (bytes[i] !== GROVE_MAGIC[i]) return false;
  return true;
}

function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** The file bytes for a model's SharedArrayBuffer. */
export function encodeGroveFile(sab: SharedArrayBuffer): Uint8Array {
  const payload = new Uint8Array(sab);
  const out = new Uint8Array(GROVE_HEADER_BYTES + payload.length);
  out.set(GROVE_MAGIC, 0);
  const dv = new DataView(out.buffer);
  dv.setUint16(6, GROVE_FILE_VERSION, true);
  dv.setBigUint64(8, BigInt(payload.length), true);
  out.set(sha256(payload), 16);
  out.set(payload, GROVE_HEADER_BYTES);
  return out;
}

interface Header {
  payloadLength: number;
  digest: Uint8Array;
}

function parseHeader(head: Uint8Array, fileLength: number): Header {
  if (!isGroveFile(head)) throw new ModelFormatError('not a grove model file (bad magic)');
  if (head.length < GROVE_HEADER_BYTES) {
    throw new TruncatedModelError(
      `grove model file is truncated: ${head.length} bytes, the header alone is ${GROVE_HEADER_BYTES}`,
    );
  }
  const dv = new DataView(head.buffer, head.byteOffset, GROVE_HEADER_BYTES);
  const version = dv.getUint16(6, true);
  if (version !== GROVE_FILE_VERSION) {
    throw new ModelFormatError(
      `grove model file version ${version} is not supported (this build reads ${GROVE_FILE_VERSION})`,
      'GROVE_ERR_MODEL_VERSION',
    );
  }
  const len = dv.getBigUint64(8, true);
  if (len > BigInt(Number.MAX_SAFE_INTEGER))
    throw new ModelFormatError('grove model file declares an impossible payload length');
  const payloadLength = Number(len);
  if (fileLength < GROVE_HEADER_BYTES + payloadLength) {
    throw new TruncatedModelError(
      `grove model file is truncated: payload is ${fileLength - GROVE_HEADER_BYTES} of ${payloadLength} bytes`,
    );
  }
  return { payloadLength, digest: head.slice(16, 48) };
}

function checkDigest(payload: Uint8Array, digest: Uint8Array): void {
  const got = sha256(payload);
  if (!got.equals(digest)) throw new ChecksumError('grove model file checksum mismatch: the file is corrupt');
}

/** Decodes in-memory file bytes into a fresh SharedArrayBuffer holding the container. */
export function decodeGroveFile(bytes: Uint8Array): SharedArrayBuffer {
  const h = parseHeader(bytes.subarray(0, GROVE_HEADER_BYTES), bytes.length);
  const payload = bytes.subarray(GROVE_HEADER_BYTES, GROVE_HEADER_BYTES + h.payloadLength);
  checkDigest(payload, h.digest);
  const sab = new SharedArrayBuffer(h.payloadLength);
  new Uint8Array(sab).set(payload);
  return sab;
}

/** Reads a .grove file: the header, then ONE read of the payload straight into shared memory. */
export async function readGroveFile(path: string): Promise<SharedArrayBuffer> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const head = new Uint8Array(Math.min(size, GROVE_HEADER_BYTES));
    await fh.read(head, 0, head.length, 0);
    const h = parseHeader(head, size);
    const sab = new SharedArrayBuffer(h.payloadLength);
    const view = new Uint8Array(sab);
    let done = 0;
    while (done < h.payloadLength) {
      const { bytesRead } = await fh.read(view, done, h.payloadLength - done, GROVE_HEADER_BYTES + done);
      if (bytesRead === 0) throw new TruncatedModelError('grove model file ended while reading its payload');
      done += bytesRead;
    }
    checkDigest(view, h.digest);
    return sab;
  } finally {
    await fh.close();
  }
}
