// Feature names as UTF-8 bytes without allocating per lookup: ASCII names (the usual case) are
// copied code unit by code unit, anything else goes through TextEncoder.encodeInto, into one
// reusable scratch buffer. Both the weight table (FNV-1a) and FeatureHasher (MurmurHash3) hash
// these bytes, so a name hashes the same as Python's `name.encode('utf-8')`.
const encoder = new TextEncoder();
let scratch = new Uint8Array(256);

/** Writes `key` as UTF-8 into the shared scratch buffer; returns the byte length. */
export function utf8Into(key: string): number {
  const n = key.length;
  if (scratch.length < n * 3) scratch = new Uint8Array(n * 3 + 64);
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c > 0x7f) return encoder.encodeInto(key, scratch).written;
    scratch[i] = c;
  }
  return n;
}

/** The scratch buffer utf8Into wrote to (valid until the next call). */
export function utf8Scratch(): Uint8Array {
  return scratch;
}

/** FNV-1a, 32-bit, over bytes[0..len). */
export function fnv1a(bytes: Uint8Array, start: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < start + len; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

/**
 * MurmurHash3 x86 32-bit (Austin Appleby's reference, as scikit-learn's murmurhash3_bytes_s32),
 * returned SIGNED as scikit-learn's `murmurhash3_32(key, seed, positive=False)`.
 */
export function murmur3Signed(bytes: Uint8Array, len: number, seed: number): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed >>> 0;
  const blocks = len & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = len & 3;
  if (tail) {
    let k = 0;
    if (tail === 3) k ^= bytes[blocks + 2]! << 16;
    if (tail >= 2) k ^= bytes[blocks + 1]! << 8;
    k ^= bytes[blocks]!;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}
