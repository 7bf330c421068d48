// Packs a model's flat layout (flat-layout.ts) into the byte image a WebAssembly tree kernel walks.
// The image is built ONCE per model per thread at load (never per request), from the zero-copy
// views over the model's SharedArrayBuffer, which stays the single source of truth; the packed form
// is derived data, so the layout's semantics do not change.
//
// Why repack: the probe in fast-tree-inference.md measured 8-byte nodes `{i32 slot, f32 thr}` (one
// cache line holds 8 nodes, one address computation per step) and addresses instead of indices.
//
// Image (byte addresses, all 8-aligned):
//   TABLE   32 bytes per tree, tree order: [kind, depth, nodeAddr, leafAdj, groupByteOffset, 0, 0, 0]
//           kind 0 (heap): node i (1-based heap index: root 1, children 2i and 2i+1) at
//             nodeAddr + i*NSH; after `depth` steps i is in [2^d, 2^(d+1)) and the leaf is at
//             leafAdj + i*leafStride.
//           kind 1 (generic): nodeAddr is the root's address; leafAdj unused.
//   NODES   heap node (NSH = 8 for f32 thresholds, 16 for f64): {i32 slotByteOffset, [pad,] thr}
//           generic node (NSG = 16 / 24): {i32 slotByteOffset, [pad,] thr, i32 leftAddr, i32 rightAddr};
//           a leaf has thr = NaN (never right), leftAddr = itself, rightAddr = its leaf's address.
//   LEAVES  leaf_value in flat-layout order, as f32 when every leaf and base margin is a float32
//           value and sums are float32 (XGBoost: then f32.add equals Math.fround(a + b)), else f64.
//   BM      numGroups f64 base margins; ZERO numGroups f64 zeros (initial sums of averaged forests).
//   SLOTS   the dual-row slots of R rows interleaved: slot s of row k at SLOTS + (s*R + k)*E, so a
//           node's slotByteOffset (s*R*E) serves every row with a constant load offset k*E.
//   ACC     R*numGroups f64 running sums (multi-column models only).
//   INPUT   CHUNK rows of numFeatures f64, row-major (the caller's rows are copied here).
//   OUT     CHUNK rows of numGroups f64 margins.
import { TREE_HEAP, TREE_TABLE_STRIDE, type TreesDescriptorExtra } from '../flat-layout.js';
import type { TreeArrays } from '../kernels.js';

export interface WasmPlan {
  F: number;
  /** slot count: slotGroups.length * F */
  S: number;
  slotGroups: number[];
  R: number;
  /** bytes per slot and threshold: 4 (f32) or 8 (f64) */
  E: number;
  NSH: number;
  NSG: number;
  leafF32: boolean;
  /** float32 running sums: true when the model sums in float32 */
  sumF32: boolean;
  G: number;
  W: number;
  T: number;
  chunk: number;
  TABLE: number;
  NODES: number;
  LEAVES: number;
  BM: number;
  ZERO: number;
  SLOTS: number;
  ACC: number;
  INPUT: number;
  OUT: number;
  pages: number;
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;
export const TABLE_STRIDE = 32;

export function planImage(d: TreesDescriptorExtra, a: TreeArrays, R: number, chunk: number): WasmPlan {
  const F = d.numFeatures;
  const S = d.slotGroups.length * F;
  const E = d.thresholdType === 'f32' ? 4 : 8;
  const T = d.numTrees;
  const exact32 = (v: number) => v !== v || Math.fround(v) === v;
  const sumF32 = d.sumPrecision === 'f32';
  const leafF32 = sumF32 && a.leafValue.every(exact32) && a.baseMargin.every(exact32);
  let nodeBytes = 0;
  const NSH = E === 4 ? 8 : 16;
  const NSG = E === 4 ? 16 : 24;
  for (let t = 0; t < T; t++) {
    const q = t * TREE_TABLE_STRIDE;
    const kind = a.table[q]!;
    const depth = a.table[q + 1]!;
    if (kind === TREE_HEAP) nodeBytes += ((1 << depth) - 1) * NSH;
    else nodeBytes += generic(a, t).count * NSG;
  }
  let at = 64;
  const take = (bytes: number) => {
    const p = at;
    at = align8(at + bytes);
    return p;
  };
  const TABLE = take(T * TABLE_STRIDE);
  // One spare heap node: a heap tree's 1-based node i sits at nodeAddr + i*NSH, nodeAddr = start - NSH.
  take(NSH);
  const NODES = take(nodeBytes);
  const LEAVES = take(a.leafValue.length * (leafF32 ? 4 : 8));
  const G = d.numGroups;
  const BM = take(G * 8);
  const ZERO = take(G * 8);
  const SLOTS = take(Math.max(1, S) * R * E);
  const ACC = take(R * G * 8);
  const INPUT = take(chunk * F * 8);
  const OUT = take(chunk * G * 8);
  return {
    F,
    S,
    slotGroups: d.slotGroups,
    R,
    E,
    NSH,
    NSG,
    leafF32,
    sumF32,
    G,
    W: d.leafWidth,
    T,
    chunk,
    TABLE,
    NODES,
    LEAVES,
    BM,
    ZERO,
    SLOTS,
    ACC,
    INPUT,
    OUT,
    pages: Math.max(1, Math.ceil(at / 65536)),
  };
}

/** A generic tree's node range [nb, nb + count) in the flat layout (pre-order, contiguous). */
function generic(a: TreeArrays, t: number): { nb: number; count: number } {
  const q = t * TREE_TABLE_STRIDE;
  const nb = a.table[q + 2]!;
  // Pre-order numbering keeps a tree's nodes contiguous; its size is the largest index reached + 1.
  let max = nb;
  const stack = [nb];
  while (stack.length) {
    const n = stack.pop()!;
    if (n > max) max = n;
    const l = a.kids[2 * n]!;
    if (l !== n) stack.push(l, a.kids[2 * n + 1]!);
  }
  return { nb, count: max - nb + 1 };
}

/** Writes the image into `mem` (the kernel instance's own memory). */
export function fillImage(p: WasmPlan, a: TreeArrays, mem: ArrayBuffer): void {
  const i32 = new Int32Array(mem);
  const f32 = new Float32Array(mem);
  const f64 = new Float64Array(mem);
  const thrAt = (addr: number, v: number) => {
    if (p.E === 4) f32[(addr + 4) >> 2] = v;
    else f64[(addr + 8) >> 3] = v;
  };
  const slotOff = (slot: number) => slot * p.R * p.E;
  const leafStride = p.W * (p.leafF32 ? 4 : 8);
  let cursor = p.NODES;
  for (let t = 0; t < p.T; t++) {
    const q = t * TREE_TABLE_STRIDE;
    const kind = a.table[q]!;
    const depth = a.table[q + 1]!;
    const nb = a.table[q + 2]!;
    const lb = a.table[q + 3]!;
    const row = (p.TABLE + t * TABLE_STRIDE) >> 2;
    i32[row] = kind === TREE_HEAP ? 0 : 1;
    i32[row + 1] = depth;
    i32[row + 4] = (p.W > 1 ? 0 : a.group[t]!) * 8;
    if (kind === TREE_HEAP) {
      const inner = (1 << depth) - 1;
      i32[row + 2] = cursor - p.NSH;
      i32[row + 3] = p.LEAVES + (lb - (1 << depth)) * leafStride;
      for (let i = 0; i < inner; i++) {
        const at = cursor + i * p.NSH;
        i32[at >> 2] = slotOff(a.nodeSlot[nb + i]!);
        thrAt(at, a.nodeThr[nb + i]!);
      }
      cursor += inner * p.NSH;
    } else {
      const { count } = generic(a, t);
      const addrOf = (n: number) => cursor + (n - nb) * p.NSG;
      const kidAt = p.E === 4 ? 8 : 16;
      i32[row + 2] = cursor;
      for (let n = nb; n < nb + count; n++) {
        const at = addrOf(n);
        i32[at >> 2] = slotOff(a.nodeSlot[n]!);
        thrAt(at, a.nodeThr[n]!);
        const l = a.kids[2 * n]!;
        if (l === n) {
          i32[(at + kidAt) >> 2] = at;
          i32[(at + kidAt + 4) >> 2] = p.LEAVES + (lb + n - nb) * leafStride;
        } else {
          i32[(at + kidAt) >> 2] = addrOf(l);
          i32[(at + kidAt + 4) >> 2] = addrOf(a.kids[2 * n + 1]!);
        }
      }
      cursor += count * p.NSG;
    }
  }
  if (p.leafF32) f32.set(a.leafValue, p.LEAVES >> 2);
  else f64.set(a.leafValue, p.LEAVES >> 3);
  f64.set(a.baseMargin, p.BM >> 3);
}
