// The weight table of sparse linear models: feature name -> column, as open addressing (linear
// probing, FNV-1a over the name's UTF-8 bytes) in typed arrays that live in the model's
// SharedArrayBuffer, so every thread shares one table and no JS Map is built per model:
//   slots   Int32Array, 4 x a power of two >= 2 x columns: [hash, column, name offset, name length]
//           records, column -1 = empty (a probe reads one 16-byte record: only equal hashes go on
//           to compare the name's bytes, and nothing else is read before the weight);
//   pool    Uint8Array, every name's UTF-8 bytes back to back.
// A lookup hashes and compares in place (ASCII names straight from the JS string): no allocation.
import { fnv1a, utf8Into, utf8Scratch } from './utf8-keys.js';

export interface FeatureTableArrays {
  slots: Int32Array;
  pool: Uint8Array;
}

const REC = 4;

export function buildFeatureTable(names: readonly string[]): FeatureTableArrays {
  const { pool, offsets } = encodeNames(names);
  let size = 16;
  while (size < names.length * 2) size *= 2;
  const slots = new Int32Array(size * REC);
  for (let s = 0; s < size; s++) slots[REC * s + 1] = -1;
  const mask = size - 1;
  for (let c = 0; c < names.length; c++) {
    const off = offsets[c]!;
    const len = offsets[c + 1]! - off;
    const h = fnv1a(pool, off, len) | 0;
    let s = h & mask;
    for (;;) {
      const r = REC * s;
      if (slots[r + 1]! < 0) {
        slots[r] = h;
        slots[r + 1] = c;
        slots[r + 2] = off;
        slots[r + 3] = len;
        break;
      }
      // A repeated name keeps its first column (vocabulary_ has unique keys anyway).
      const o = slots[r + 2]!;
      if (slots[r] === h && sameBytes(pool, o, o + slots[r + 3]!, pool, off, len)) break;
      s = (s + 1) & mask;
    }
  }
  return { slots, pool };
}

/**
 * Every name's UTF-8 bytes back to back and where each starts: one encoding of the joined names (a
 * Buffer per name was most of building a large vocabulary's table), unless joining changes the
 * bytes (a lone surrogate at a name's edge pairs with its neighbour's): then name by name.
 */
function encodeNames(names: readonly string[]): { pool: Uint8Array; offsets: Uint32Array } {
  const offsets = new Uint32Array(names.length + 1);
  const joined = names.join('');
  const bytes = Buffer.from(joined, 'utf8');
  const pool = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  let total = 0;
  if (pool.length === joined.length) {
    // ASCII only: one byte per character.
    for (let i = 0; i < names.length; i++) {
      offsets[i] = total;
      total += names[i]!.length;
    }
  } else {
    for (let i = 0; i < names.length; i++) {
      offsets[i] = total;
      total += Buffer.byteLength(names[i]!, 'utf8');
    }
  }
  offsets[names.length] = total;
  if (total === pool.length) return { pool, offsets };
  const each = new Uint8Array(total);
  for (let i = 0; i < names.length; i++) each.set(Buffer.from(names[i]!, 'utf8'), offsets[i]!);
  return { pool: each, offsets };
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
  private readonly pool: Uint8Array;
  constructor(t: FeatureTableArrays) {
    this.slots = t.slots;
    this.pool = t.pool;
    this.mask = t.slots.length / REC - 1;
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
    const { slots, pool } = this;
    let s = h & this.mask;
    for (;;) {
      const r = REC * s;
      const c = slots[r + 1]!;
      if (c < 0) return -1;
      if (slots[r] === h) {
        const start = slots[r + 2]!;
        if (slots[r + 3]! === n) {
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
    const { slots, pool } = this;
    const h = fnv1a(key, 0, len) | 0;
    let s = h & this.mask;
    for (;;) {
      const r = REC * s;
      const c = slots[r + 1]!;
      if (c < 0) return -1;
      if (slots[r] === h && sameBytes(pool, slots[r + 2]!, slots[r + 2]! + slots[r + 3]!, key, 0, len))
        return c;
      s = (s + 1) & this.mask;
    }
  }
}
