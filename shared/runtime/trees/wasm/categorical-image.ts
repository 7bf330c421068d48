// Categorical trees (flat-layout.ts TREE_CATEGORICAL) in the WebAssembly image (memory-image.ts):
// every node, numeric or categorical, decides with the same branch-free step
// (categorical-walk.ts), so rows in lockstep never branch on the node's kind:
//   right = (slot >= thr) | ((word >>> idx) & 1)
// A numeric node keeps its dual-row slot and stored threshold, and points at ZEROW with hi = 0,
// so its bitset half is always 0. A categorical node has thr = NaN (its compare half is always 0)
// and reads the SLOT_RAW slot, which the fill stores as an i32 CATEGORY CODE instead of x:
//   NaN                                        -> 0x80000000 (top bit set)
//   invalid: negative by the rule's test (x < 0 for 'value', x <= -1 i.e. trunc(x) < 0 for
//            'truncated'), x >= 2^31, +Inf, -Inf -> 0x7fffffff
//   else                                       -> trunc(x), in [0, 2^31)
// and the index into the node's record is idx = code <u hi ? code : hi + (code >>> 31), with
// hi = 32 * words: a valid category inside the bitset reads its bit, one beyond it (invalid for
// this node, tree-ir.ts CategoricalRule) reads bit 0 of the record's extra word, NaN bit 1.
//
// Node (NSC bytes): f32 thresholds (24): {i32 slotByteOffset, f32 thr, i32 leftAddr, i32 rightAddr,
//   i32 recAddr, i32 hi}; f64 (32): {i32 slotByteOffset, i32 hi, f64 thr, i32 leftAddr,
//   i32 rightAddr, i32 recAddr, pad}. Leaves as in generic trees (thr NaN, left = itself, right =
//   the leaf's address) with recAddr = ZEROW, hi = 0.
// Record (CATS, words + 1 u32): the node's "goes right" bits (the set itself when the set goes
//   right, its complement when it goes left), then the extra word: bit 0 = invalid goes right,
//   bit 1 = NaN goes right ('default' resolves to the node's default direction, node_flags bit 0).
import { TREE_TABLE_STRIDE } from '../flat-layout.js';
import type { TreeArrays } from '../kernels.js';
import type { WasmPlan } from './memory-image.js';
import { generic } from './tree-ranges.js';

export const catNodeStride = (E: number): number => (E === 4 ? 24 : 32);

/** Byte offsets of a categorical tree node's fields. */
export function catFields(E: number): { kid: number; rec: number; hi: number } {
  return E === 4 ? { kid: 8, rec: 16, hi: 20 } : { kid: 16, rec: 24, hi: 4 };
}

export const CODE_NAN = -0x80000000;
export const CODE_INVALID = 0x7fffffff;

/** Bytes of the bitset records of the categorical nodes in [nb, nb + count). */
export function catRecordBytes(a: TreeArrays, nb: number, count: number): number {
  let bytes = 0;
  for (let n = nb; n < nb + count; n++) if (a.nodeCat[n]! >= 0) bytes += (a.nodeCatWords[n]! + 1) * 4;
  return bytes;
}

/**
 * Packs categorical tree t at `cursor` (nodes) and `catCursor` (records); returns both cursors
 * after it.
 */
export function fillCatTree(
  p: WasmPlan,
  a: TreeArrays,
  t: number,
  cursor: number,
  catCursor: number,
  mem: ArrayBuffer,
): [number, number] {
  const rule = p.cat!;
  const i32 = new Int32Array(mem);
  const u32 = new Uint32Array(mem);
  const f32 = new Float32Array(mem);
  const f64 = new Float64Array(mem);
  const { kid, rec, hi } = catFields(p.E);
  const q = t * TREE_TABLE_STRIDE;
  const nb = a.table[q + 2]!;
  const lb = a.table[q + 3]!;
  const { count } = generic(a, t);
  const leafStride = p.W * (p.leafF32 ? 4 : 8);
  const addrOf = (n: number) => cursor + (n - nb) * p.NSC;
  for (let n = nb; n < nb + count; n++) {
    const at = addrOf(n);
    const cat = a.nodeCat[n]!;
    i32[at >> 2] = a.nodeSlot[n]! * p.R * p.E;
    const thr = cat >= 0 ? Number.NaN : a.nodeThr[n]!;
    if (p.E === 4) f32[(at + 4) >> 2] = thr;
    else f64[(at + 8) >> 3] = thr;
    const l = a.kids[2 * n]!;
    if (l === n) {
      i32[(at + kid) >> 2] = at;
      i32[(at + kid + 4) >> 2] = p.LEAVES + (lb + n - nb) * leafStride;
    } else {
      i32[(at + kid) >> 2] = addrOf(l);
      i32[(at + kid + 4) >> 2] = addrOf(a.kids[2 * n + 1]!);
    }
    if (cat < 0) {
      i32[(at + rec) >> 2] = p.ZEROW;
      i32[(at + hi) >> 2] = 0;
      continue;
    }
    const words = a.nodeCatWords[n]!;
    const defaultRight = (a.nodeFlags[n]! & 1) === 0;
    const sideRight = (s: 'left' | 'right' | 'default') => (s === 'default' ? defaultRight : s === 'right');
    i32[(at + rec) >> 2] = catCursor;
    i32[(at + hi) >> 2] = 32 * words;
    const w0 = catCursor >> 2;
    for (let w = 0; w < words; w++) {
      const bits = a.catBits[cat + w]!;
      u32[w0 + w] = rule.inSetGoesLeft ? ~bits >>> 0 : bits;
    }
    u32[w0 + words] = (sideRight(rule.invalid) ? 1 : 0) | (sideRight(rule.nan) ? 2 : 0);
    catCursor += (words + 1) * 4;
  }
  return [cursor + count * p.NSC, catCursor];
}
