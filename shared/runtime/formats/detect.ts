// Which kind of model file a byte buffer holds, judged from its content (a `.json` named `.bin`
// still loads); the file name only appears in the error message. Magic numbers: pickle protocol 2+
// opens with PROTO (0x80, version); joblib writes a pickle whose arrays are NumpyArrayWrapper
// objects, or compresses it (zlib 0x78, gzip 1f 8b, bz2 "BZh", xz fd "7zXZ", lz4 04 22 4d 18);
// XGBoost UBJSON opens with '{' and a UBJSON length marker; LightGBM text opens with the line "tree".

import { fileText } from '../../errors/file-text.js';
import { ModelFormatError } from '../../errors/grove-error.js';
import type { Platform } from '../model.js';

const GROVE_MAGIC = [0x47, 0x52, 0x4f, 0x56, 0x45, 0x00]; // "GROVE\0"
const UBJ_MARKERS = new Set([0x69, 0x55, 0x49, 0x6c, 0x4c, 0x24, 0x23, 0x7d]); // i U I l L $ # }

function startsWith(bytes: Uint8Array, magic: readonly number[], at = 0): boolean {
  if (bytes.length < at + magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[at + i] !== magic[i]) return false;
  return true;
}

function ascii(s: string): number[] {
  return Array.from(s, (c) => c.charCodeAt(0));
}

/** Index of `needle` (ASCII) in the first `limit` bytes, or -1. */
function indexOfAscii(bytes: Uint8Array, needle: string, limit = bytes.length): number {
  return Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(limit, bytes.length)).indexOf(
    needle,
    0,
    'latin1',
  );
}

export function detectFormat(bytes: Uint8Array, fileName?: string): Platform {
  const what = fileName ?? 'the file';
  if (bytes.length === 0)
    throw new ModelFormatError(`${what} is not a model file grove can read (it is empty)`);
  if (startsWith(bytes, GROVE_MAGIC)) return 'grove';
  const b0 = bytes[0] as number;
  const b1 = bytes.length > 1 ? (bytes[1] as number) : -1;
  if (b0 === 0x80 && b1 >= 2 && b1 <= 5) {
    return indexOfAscii(bytes, 'NumpyArrayWrapper') >= 0 ? 'sklearn_joblib' : 'sklearn_pickle';
  }
  if (isCompressed(bytes)) return 'sklearn_joblib';
  if (b0 === 0x7b && UBJ_MARKERS.has(b1)) return 'xgboost_ubj';

  // Text formats: skip a UTF-8 byte-order mark and leading whitespace.
  let i = startsWith(bytes, [0xef, 0xbb, 0xbf]) ? 3 : 0;
  while (
    i < bytes.length &&
    (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)
  )
    i++;
  if (bytes[i] === 0x7b) {
    if (indexOfAscii(bytes, '"learner"') >= 0) return 'xgboost_json';
    if (indexOfAscii(bytes, '"tree_info"') >= 0 && indexOfAscii(bytes, '"tree_structure"') >= 0) {
      throw new ModelFormatError(
        `${what} is not a model file grove can read (looks like a LightGBM JSON dump from dump_model(); save the model with save_model() as text)`,
      );
    }
    throw new ModelFormatError(
      `${what} is not a model file grove can read (looks like JSON without XGBoost's "learner" object)`,
    );
  }
  if (startsWith(bytes, ascii('tree\n'), i) || startsWith(bytes, ascii('tree\r\n'), i))
    return 'lightgbm_text';
  const head = 1 << 16;
  if (indexOfAscii(bytes, 'version=v', head) >= 0 && indexOfAscii(bytes, 'Tree=') >= 0)
    return 'lightgbm_text';
  throw new ModelFormatError(`${what} is not a model file grove can read (looks like ${describe(bytes, i)})`);
}

function isCompressed(bytes: Uint8Array): boolean {
  const b0 = bytes[0];
  const b1 = bytes[1];
  if (b0 === 0x78 && (b1 === 0x01 || b1 === 0x5e || b1 === 0x9c || b1 === 0xda)) return true; // zlib
  if (b0 === 0x1f && b1 === 0x8b) return true; // gzip
  if (startsWith(bytes, ascii('BZh'))) return true; // bz2
  if (startsWith(bytes, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return true; // xz
  return startsWith(bytes, [0x04, 0x22, 0x4d, 0x18]); // lz4 frame
}

function describe(bytes: Uint8Array, textStart: number): string {
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) return 'a zip archive';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47])) return 'a PNG image';
  if (startsWith(bytes, ascii('%PDF'))) return 'a PDF document';
  if (startsWith(bytes, ascii('PAR1'))) return 'a Parquet file';
  if (startsWith(bytes, [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59])) return 'a NumPy .npy array';
  if (bytes[0] === 0x80) return `a pickle of an unsupported protocol (${bytes[1]})`;
  const n = Math.min(bytes.length, 512);
  let printable = 0;
  for (let i = 0; i < n; i++) {
    const c = bytes[i] as number;
    if (c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127) || c >= 128) printable++;
  }
  if (printable < n * 0.95) return 'binary data of an unknown kind';
  const line =
    Buffer.from(bytes.subarray(textStart, textStart + 200))
      .toString('utf8')
      .split(/\r?\n/)[0] ?? '';
  if (line.includes(',') && !line.includes('=')) return `a CSV file: ${fileText(line.slice(0, 60))}`;
  if (bytes[textStart] === 0x5b) return 'a JSON array, not a model';
  if (line.startsWith('booster['))
    return "an XGBoost text dump (dump_model); save the model with save_model('model.json')";
  return `text: ${fileText(line.slice(0, 60))}`;
}
