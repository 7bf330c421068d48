// The weight table of sparse linear models: feature name -> column, as open addressing (linear
// probing, FNV-1a over the name's UTF-8 bytes) in typed arrays that live in the model's
// SharedArrayBuffer, so every thread shares one table and no JS Map is built per model:
//   slots   Int32Array, a power of two >= 2 x columns, the column stored there or -1;
//   offsets Uint32Array, columns + 1: column c's name is pool[offsets[c] .. offsets[c + 1]);
//   pool    Uint8Array, every name's UTF-8 bytes back to back.
// A lookup hashes and compares bytes in place: no allocation.
import { fnv1a, utf8Into, utf8Scratch } from './utf8-keys.js';

export interface FeatureTableArrays {
  slots: Int32Array;
  offsets: Uint32Array;
  pool: Uint8Array;
}

export function buildFeatureTable(names: readonly string[]): FeatureTableArrays {
  const encoded = names.map((n) => Buffer.from(n, 'utf8'));
  const offsets = new Uint32Array(names.length + 1);
  let total = 0;
  encoded.forEach((b, i) => {
    offsets[i] = total;
    total += b.length;
  });
  offsets[names.length] = total;
  const pool = new Uint8Array(total);
  encoded.forEach((b, i) => pool.set(b, offsets[i]!));
  let size = 16;
  while (size < names.length * 2) size *= 2;
  const slots = new Int32Array(size).fill(-1);
  const mask = size - 1;
  for (let c = 0; c < names.length; c++) {
    let s = fnv1a(pool, offsets[c]!, offsets[c + 1]! - offsets[c]!) & mask;
    for (;;) {
      const at = slots[s]!;
      if (at < 0) {
        slots[s] = c;
        break;
      }
      // A repeated name keeps its first column (vocabulary_ has unique keys anyway).
      if (sameBytes(pool, offsets[at]!, offsets[at + 1]!, pool, offsets[c]!, offsets[c + 1]! - offsets[c]!)) break;
      s = (s + 1) & mask;
    }
  }
  return { slots, offsets, pool };
}

function sameBytes(pool: Uint8Array, start: number, end: number, key: Uint8Array, kStart: number, kLen: number): boolean {
  if (end - start !== kLen) return false;
  for (let i = 0; i < kLen; i++) if (pool[start + i] !== key[kStart + i]) return false;
  return true;
}

/** Read side over the shared arrays. */
export class FeatureTable {
  private readonly mask: number;
  constructor(private readonly t: FeatureTableArrays) {
    this.mask = t.slots.length - 1;
  }

  /** The column of `name`, or -1. */
  lookup(name: string): number {
    const len = utf8Into(name);
    const key = utf8Scratch();
    const { slots, offsets, pool } = this.t;
    let s = fnv1a(key, 0, len) & this.mask;
    for (;;) {
      const c = slots[s]!;
      if (c < 0) return -1;
      if (sameBytes(pool, offsets[c]!, offsets[c + 1]!, key, 0, len)) return c;
      s = (s + 1) & this.mask;
    }
  }
}
