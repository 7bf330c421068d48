// Reads a scikit-learn model file: a plain pickle (`pickle.dump`) or a `joblib.dump` file, which
// may be compressed as a whole. joblib picks the compressor by extension and marks the file with
// the compressor's magic bytes (joblib/compressor.py: zlib 0x78, gzip 1f 8b, bz2 'BZ',
// xz fd 37 7a 58 5a, lzma 5d 00, lz4 04 22 4d 18); grove inflates zlib and gzip with node:zlib
// and refuses the others by name. Arrays inside joblib files follow their wrapper in the stream.
import { gunzipSync, inflateSync } from 'node:zlib';
import { ModelFormatError, UnsupportedModelError } from '../../../errors/grove-error.js';
import { unpickle } from './unpickler.js';

/** Inflated files larger than this are refused: a decompression bomb is a few kilobytes per
 *  gigabyte, and the bytes inflate outside the JavaScript heap that load limits bound. */
const MAX_INFLATED = 1 << 30;

const startsWith = (b: Uint8Array, magic: number[]) => magic.every((m, i) => b[i] === m);

/** The pickle bytes of a (possibly compressed) joblib or pickle file. */
export function decompress(bytes: Uint8Array): Uint8Array {
  if (startsWith(bytes, [0x78])) return inflateSync(bytes, { maxOutputLength: MAX_INFLATED });
  if (startsWith(bytes, [0x1f, 0x8b])) return gunzipSync(bytes, { maxOutputLength: MAX_INFLATED });
  const other: [string, number[]][] = [
    ['bz2', [0x42, 0x5a]],
    ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a]],
    ['lzma', [0x5d, 0x00]],
    ['lz4', [0x04, 0x22, 0x4d, 0x18]],
  ];
  for (const [name, magic] of other) {
    if (startsWith(bytes, magic)) {
      throw new UnsupportedModelError(
        `joblib file is ${name}-compressed; grove reads uncompressed, zlib and gzip joblib files (re-save with compress=('zlib', 3) or compress=0)`,
      );
    }
  }
  if (startsWith(bytes, [0x5a, 0x46])) {
    throw new UnsupportedModelError('joblib file from joblib < 0.10 (ZF format) is not supported');
  }
  return bytes;
}

/** Unpickles a scikit-learn file (joblib or pickle, detected from its bytes) into plain data. */
export function readSklearnFile(bytes: Uint8Array): unknown {
  if (bytes.length === 0) throw new ModelFormatError('model file is empty');
  return unpickle(decompress(bytes), { joblib: true });
}
