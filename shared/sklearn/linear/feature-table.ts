// The weight table of sparse linear models: feature name -> column, as open addressing (linear
// probing, FNV-1a over the name's UTF-8 bytes) in typed arrays that live in the model's
// SharedArrayBuffer, so every thread shares one table and no JS Map is built per model:
//   slots   Int32Array, 2 x a power of two >= 2 x columns: [hash, column] pairs, column -1 = empty
//           (the hash sits next to the column so a probe touches one cache line and only equal
//           hashes compare names);
//   offsets Uint32Array, columns + 1: column c's name is pool[offsets[c] .. offsets[c + 1]);
//   pool    Uint8Array, every name's UTF-8 bytes back to back.
// A lookup hashes and compares in place (ASCII names straight from the JS string): no allocation.
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
  encoded.forEach((b, i) => {
    pool.set(b, offsets[i]!);
  });
  let size = 16;
  while (size < names.length * 2) size *= 2;
  const slots = new Int32Array(size * 2);
  for (let s = 0; s < size; s++) slots[2 * s + 1] = -1;
  const mask = size - 1;
  for (let c = 0; c < names.length; c++) {
    const h = fnv1a(pool, offsets[c]!, offsets[c + 1]! - offsets[c]!) | 0;
    let s = h & mask;
    for (;;) {
      const at = slots[2 * s + 1]!;
      if (at < 0) {
        slots[2 * s] = h;
        slots[2 * s + 1] = c;
        break;
      }
      // A repeated name keeps its first column (vocabulary_ has unique keys anyway).
      if (
        slots[2 * s] === h &&
        sameBytes(pool, offsets[at]!, offsets[at + 1]!, pool, offsets[c]!, offsets[c + 1]! - offsets[c]!)
      )
        break;
      s = (s + 1) & mask;
    }
  }
  return { slots, offsets, pool };
}

function sameBytes(
  pool: Uint8Array,
  start: number,
  end: number,
  key: Uint8Array,
  kStart: number,
  kLen: number,
): boolean {
  if (end - start !== kLen) return false;
  for (let i = 0; i < kLen; i++) if (pool[start + i] !== key[kStart + i]) return false;
  return true;
}

/** Read side over the shared arrays. */
export class FeatureTable {
  private readonly mask: number;
  private readonly slots: Int32Array;
  private readonly offsets: Uint32Array;
  private readonly pool: Uint8Array;
  constructor(t: FeatureTableArrays) {
    this.slots = t.slots;
    this.offsets = t.offsets;
    this.pool = t.pool;
    this.mask = (t.slots.length >>> 1) - 1;
  }

  /** The column of `name`, or -1. */
  lookup(name: string): number {
    const n = name.length;
    let h = 0x811c9dc5 | 0;
    for (let i = 0; i < n; i++) {
      const ch = name.charCodeAt(i);
      if (ch > 0x7f) return this.lookupUtf8(name);
      h = Math.imul(h ^ ch, 0x01000193);
    }
    const { slots, offsets, pool } = this;
    let s = h & this.mask;
    for (;;) {
      const c = slots[2 * s + 1]!;
      if (c < 0) return -1;
      if (slots[2 * s] === h) {
        const start = offsets[c]!;
        if (offsets[c + 1]! - start === n) {
          let i = 0;
          while (i < n && pool[start + i] === name.charCodeAt(i)) i++;
          if (i === n) return c;
        }
      }
      s = (s + 1) & this.mask;
    }
  }

  private lookupUtf8(name: string): number {
    const len = utf8Into(name);
    const key = utf8Scratch();
    const { slots, offsets, pool } = this;
    const h = fnv1a(key, 0, len) | 0;
    let s = h & this.mask;
    for (;;) {
      const c = slots[2 * s + 1]!;
      if (c < 0) return -1;
      if (slots[2 * s] === h && sameBytes(pool, offsets[c]!, offsets[c + 1]!, key, 0, len)) return c;
      s = (s + 1) & this.mask;
    }
  }
}
