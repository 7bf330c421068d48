// How a chunk's CSV input is stored on a PostgreSQL server: packed two characters to a byte when
// both are among the 15 that numeric CSV is made of (digits, '.', '-', ',', line feed, 'e'). The
// server's cost of the input is per byte (TOAST pieces, WAL, copies: about 2 of a 1,000,000-row
// job's 5 CPU-seconds there, docs/jobs.md#performance), and numbers as text are almost all such
// characters, so storing half the bytes halves it. The format, byte by byte:
// - below 0xF0: two characters, the high nibble first (each nibble an index in SYMBOLS);
// - 0xF0 a b: the two bytes a and b as they are (a pair with any other byte);
// - 0xF1 a: a last single byte.
// Any byte sequence packs and unpacks to itself; text that is not mostly numbers packs larger,
// and is then stored as it is (packWorthIt).

const SYMBOLS = '0123456789.-,\ne';
const PAIR = 0xf0;
const SINGLE = 0xf1;

/** Whether a 16-bit word read from memory has its first byte low (little-endian: nearly every platform). */
const LITTLE = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
/** The packed byte of the pair of bytes a, b read as one 16-bit word; 0xFFFF when a or b is not a symbol. */
const PACK = new Uint16Array(65536).fill(0xffff);
/** A packed byte's two characters (its high nibble first). */
const FIRST = new Uint8Array(256);
const SECOND = new Uint8Array(256);
for (let i = 0; i < SYMBOLS.length; i++)
  for (let j = 0; j < SYMBOLS.length; j++) {
    const a = SYMBOLS.charCodeAt(i);
    const b = SYMBOLS.charCodeAt(j);
    PACK[LITTLE ? (b << 8) | a : (a << 8) | b] = (i << 4) | j;
    FIRST[(i << 4) | j] = a;
    SECOND[(i << 4) | j] = b;
  }

/** Packing space reused from chunk to chunk (what is kept is copied out at its size), up to 16 MiB. */
const SCRATCH_MAX = 16 << 20;
let scratch = Buffer.allocUnsafe(0);

/** `src` packed (at most 1.5 times its length plus one byte). */
export function packDigits(src: Uint8Array): Buffer {
  const need = Math.ceil(src.length * 1.5) + 2;
  // A chunk of very long rows gets space of its own, not kept after it.
  if (need > SCRATCH_MAX) return packInto(src, Buffer.allocUnsafe(need));
  if (scratch.length < need) scratch = Buffer.allocUnsafe(Math.max(need, 4 << 20));
  return packInto(src, scratch);
}

function packInto(src: Uint8Array, out: Buffer): Buffer {
  const pairs = src.length >> 1;
  // Pairs are read as 16-bit words (one load each) where the bytes are aligned for it.
  const words =
    (src.byteOffset & 1) === 0
      ? new Uint16Array(src.buffer, src.byteOffset, pairs)
      : new Uint16Array(new Uint8Array(src.subarray(0, 2 * pairs)).buffer, 0, pairs);
  let o = packWords(words, out);
  if (src.length & 1) {
    out[o] = SINGLE;
    out[o + 1] = src[src.length - 1]!;
    o += 2;
  }
  return out === scratch ? Buffer.from(out.subarray(0, o)) : out.subarray(0, o);
}

function packWords(words: Uint16Array, out: Buffer): number {
  let o = 0;
  for (let k = 0; k < words.length; k++) {
    const w = words[k]!;
    const v = PACK[w]!;
    if (v !== 0xffff) out[o++] = v;
    else {
      out[o] = PAIR;
      out[o + 1] = LITTLE ? w & 0xff : w >>> 8;
      out[o + 2] = LITTLE ? w >>> 8 : w & 0xff;
      o += 3;
    }
  }
  return o;
}

/** The bytes `packed` came from; throws on bytes no packing gives. */
export function unpackDigits(packed: Uint8Array): Buffer {
  let size = 0;
  for (let i = 0; i < packed.length; ) {
    const x = packed[i]!;
    if (x < PAIR && (x & 0x0f) !== 0x0f) {
      size += 2;
      i++;
    } else if (x === PAIR && i + 2 < packed.length) {
      size += 2;
      i += 3;
    } else if (x === SINGLE && i + 2 === packed.length) {
      size += 1;
      i += 2;
    } else throw new Error(`a packed chunk is damaged at byte ${i}`);
  }
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  for (let i = 0; i < packed.length; ) {
    const x = packed[i]!;
    if (x < PAIR) {
      out[o] = FIRST[x]!;
      out[o + 1] = SECOND[x]!;
      o += 2;
      i++;
    } else if (x === PAIR) {
      out[o] = packed[i + 1]!;
      out[o + 1] = packed[i + 2]!;
      o += 2;
      i += 3;
    } else {
      out[o++] = packed[i + 1]!;
      i += 2;
    }
  }
  return out;
}

/** Whether the packed form is worth storing instead: under three quarters of the size. */
export function packWorthIt(src: Uint8Array, packed: Uint8Array): boolean {
  return packed.length < src.length * 0.75;
}
