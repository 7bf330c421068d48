// Packs a model's flat layout (flat-layout.ts) into the byte image a WebAssembly tree kernel walks.
// The image is built ONCE per model per thread at load (never per request), from the zero-copy
// views over the model's SharedArrayBuffer, which stays the single source of truth; the packed form
// is derived data, so the layout's semantics do not change.
//
// Why repack: a probe of kernel shapes measured 8-byte nodes `{i32 slot, f32 thr}` (one
// cache line holds 8 nodes, one address computation per step) and addresses instead of indices.
//
// Image (byte addresses, all 8-aligned):
//   TABLE   32 bytes per tree, tree order: [kind, depth, nodeAddr, leafAdj, groupByteOffset, 0, 0, 0]
//           kind 0 (heap): node i (1-based heap index: root 1, children 2i and 2i+1) at
//             nodeAddr + i*NSH; after `depth` steps i is in [2^d, 2^(d+1)) and the leaf is at
//             leafAdj + i*leafStride.
//           kind 1 (generic): nodeAddr is the root's address; leafAdj unused.
//           kind 2 (categorical): as kind 1, nodes as categorical-image.ts packs them.
//   NODES   heap node (NSH = 8 for f32 thresholds, 16 for f64): {i32 slotByteOffset, [pad,] thr}
//           generic node (NSG = 16 / 24): {i32 slotByteOffset, [pad,] thr, i32 leftAddr, i32 rightAddr};
//           a leaf has thr = NaN (never right), leftAddr = itself, rightAddr = its leaf's address.
//           categorical tree node (NSC = 24 / 32): categorical-image.ts.
//   LEAVES  leaf_value in flat-layout order, as f32 when every leaf and base margin is a float32
//           value and sums are float32 (XGBoost: then f32.add equals Math.fround(a + b)), else f64.
//   CATS    categorical trees' bitset records, then ZEROW: 8 zero bytes (categorical-image.ts).
//   BM      numGroups f64 base margins; ZERO numGroups f64 zeros (initial sums of averaged forests).
//   SLOTS   the dual-row slots of R rows interleaved (SLOT_RAW slots hold i32 category codes,
//           categorical-image.ts): slot s of row k at SLOTS + (s*R + k)*E, so a
//           node's slotByteOffset (s*R*E) serves every row with a constant load offset k*E. Room
//           for a whole chunk: tree-blocked batches fill row group r/R at SLOTS + r*S*E.
//   BLOCKS  [first, end) TABLE addresses of consecutive trees whose nodes and leaves fit
//           `blockBytes` (L2-sized): big models are walked block by block over a whole chunk.
//   ACC     R*numGroups f64 running sums (multi-column models only).
//   GROUPS  the one-row walk's plan: one row gains from walking Q trees in lockstep (independent
//           chains), so heap trees are grouped by depth (any tree order; the sums keep tree order,
//           below): [kind, depth, Q x (nodeAddr, leafAdj, leafSlotAddr)]; kind 0 = Q heap trees of
//           that depth (a short group repeats its last tree into the spare slot), kind 1 = Q
//           generic trees walking the deepest one's depth (leaves loop on themselves); kind 2 =
//           the same for categorical trees.
//   LEAFAT  numTrees + 1 i32: the one-row walk stores each tree's leaf address here, then adds
//           the leaves in tree order (the last word takes padding walks).
//   INPUT   CHUNK rows of numFeatures f64, row-major (the caller's rows are copied here).
//   OUT     CHUNK rows of numGroups f64 margins.
import { TREE_CATEGORICAL, TREE_HEAP, TREE_TABLE_STRIDE, type TreesDescriptorExtra } from '../flat-layout.js';
import type { TreeArrays } from '../kernels.js';
import type { CategoricalRule } from '../tree-ir.js';
import { catNodeStride, catRecordBytes, fillCatTree } from './categorical-image.js';
import { generic, oneRowGroups, type TreeGroup } from './tree-ranges.js';

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
  /** categorical tree node stride (categorical-image.ts) */
  NSC: number;
  /** the model's categorical rule when it has categorical trees, else null */
  cat: CategoricalRule | null;
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
  CATS: number;
  /** 8 zero bytes: the bitset record of every numeric node and leaf of a categorical tree */
  ZEROW: number;
  BM: number;
  ZERO: number;
  SLOTS: number;
  ACC: number;
  /** trees per one-row lockstep group */
  Q: number;
  groups: TreeGroup[];
  /** the groups are heap trees 0..T-1 in order, all full but the last (kernel-module.ts fuses the sums) */
  groupsInOrder: boolean;
  GROUPS: number;
  LEAFAT: number;
  blocks: Array<[number, number]>;
  BLOCKS: number;
  /** bytes of nodes and leaves the walks touch */
  modelBytes: number;
  INPUT: number;
  OUT: number;
  pages: number;
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;
export const TABLE_STRIDE = 32;
export const groupStride = (Q: number) => 8 + 12 * Q;

/** Default tree-block budget: half of a 512 KiB L2 cache (common on x86 server cores), minus slots. */
export const BLOCK_BYTES = 160 * 1024;

export function planImage(
  d: TreesDescriptorExtra,
  a: TreeArrays,
  R: number,
  chunk: number,
  Q = 8,
  blockBytes = BLOCK_BYTES,
): WasmPlan {
  if (chunk % R !== 0) throw new RangeError(`chunk ${chunk} is not a multiple of ${R} rows`);
  const F = d.numFeatures;
  const S = d.slotGroups.length * F;
  const E = d.thresholdType === 'f32' ? 4 : 8;
  const T = d.numTrees;
  const exact32 = (v: number) => Number.isNaN(v) || Math.fround(v) === v;
  const sumF32 = d.sumPrecision === 'f32';
  const leafF32 = sumF32 && a.leafValue.every(exact32) && a.baseMargin.every(exact32);
  let nodeBytes = 0;
  const NSH = E === 4 ? 8 : 16;
  const NSG = E === 4 ? 16 : 24;
  const NSC = catNodeStride(E);
  let catBytes = 0;
  const leafStride = d.leafWidth * (leafF32 ? 4 : 8);
  const blocks: Array<[number, number]> = [];
  let blockStart = 0;
  let blockSize = 0;
  let modelBytes = 0;
  for (let t = 0; t < T; t++) {
    const q = t * TREE_TABLE_STRIDE;
    const kind = a.table[q]!;
    const depth = a.table[q + 1]!;
    const { nb, count } = kind === TREE_HEAP ? { nb: 0, count: 0 } : generic(a, t);
    const ns = kind === TREE_CATEGORICAL ? NSC : NSG;
    const recs = kind === TREE_CATEGORICAL ? catRecordBytes(a, nb, count) : 0;
    catBytes += recs;
    const bytes =
      kind === TREE_HEAP
        ? ((1 << depth) - 1) * NSH + (1 << depth) * leafStride
        : count * (ns + leafStride) + recs;
    nodeBytes += kind === TREE_HEAP ? ((1 << depth) - 1) * NSH : count * ns;
    if (blockSize > 0 && blockSize + bytes > blockBytes) {
      blocks.push([blockStart, t]);
      blockStart = t;
      blockSize = 0;
    }
    blockSize += bytes;
    modelBytes += bytes;
  }
  if (T > 0) blocks.push([blockStart, T]);
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
  const CATS = take(catBytes);
  const ZEROW = catBytes > 0 ? take(8) : 0;
  const G = d.numGroups;
  const BM = take(G * 8);
  const ZERO = take(G * 8);
  const SLOTS = take(Math.max(1, S) * chunk * E);
  const ACC = take(R * G * 8);
  const groups = oneRowGroups(a, T, Q);
  const flat = groups.flatMap((g) => (g.kind === 0 ? g.trees : [-1]));
  const groupsInOrder =
    flat.length === T &&
    flat.every((t, k) => t === k) &&
    groups.every((g, k) => g.trees.length === Q || k === groups.length - 1);
  const GROUPS = take(groups.length * groupStride(Q));
  const LEAFAT = take((T + 1) * 4);
  const BLOCKS = take(blocks.length * 8);
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
    NSC,
    cat: catBytes > 0 ? d.categorical : null,
    leafF32,
    sumF32,
    G,
    W: d.leafWidth,
    T,
    chunk,
    TABLE,
    NODES,
    LEAVES,
    CATS,
    ZEROW,
    BM,
    ZERO,
    SLOTS,
    ACC,
    Q,
    groups,
    groupsInOrder,
    GROUPS,
    LEAFAT,
    blocks: blocks.map(([s, e]) => [TABLE + s * TABLE_STRIDE, TABLE + e * TABLE_STRIDE]),
    BLOCKS,
    modelBytes,
    INPUT,
    OUT,
    pages: Math.max(1, Math.ceil(at / 65536)),
  };
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
  let catCursor = p.CATS;
  const treeAt = new Int32Array(2 * p.T);
  for (let t = 0; t < p.T; t++) {
    const q = t * TREE_TABLE_STRIDE;
    const kind = a.table[q]!;
    const depth = a.table[q + 1]!;
    const nb = a.table[q + 2]!;
    const lb = a.table[q + 3]!;
    const row = (p.TABLE + t * TABLE_STRIDE) >> 2;
    i32[row] = kind === TREE_HEAP ? 0 : kind === TREE_CATEGORICAL ? 2 : 1;
    i32[row + 1] = depth;
    i32[row + 4] = (p.W > 1 ? 0 : a.group[t]!) * 8;
    treeAt[2 * t] = cursor;
    if (kind === TREE_HEAP) {
      const inner = (1 << depth) - 1;
      i32[row + 2] = cursor - p.NSH;
      i32[row + 3] = p.LEAVES + (lb - (1 << depth)) * leafStride;
      for (let i = 0; i < inner; i++) {
        const at = cursor + i * p.NSH;
        i32[at >> 2] = slotOff(a.nodeSlot[nb + i]!);
        thrAt(at, a.nodeThr[nb + i]!);
      }
      treeAt[2 * t] = cursor - p.NSH;
      treeAt[2 * t + 1] = i32[row + 3]!;
      cursor += inner * p.NSH;
    } else if (kind === TREE_CATEGORICAL) {
      i32[row + 2] = cursor;
      [cursor, catCursor] = fillCatTree(p, a, t, cursor, catCursor, mem);
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
  p.groups.forEach((g, k) => {
    const at = (p.GROUPS + k * groupStride(p.Q)) >> 2;
    i32[at] = g.kind;
    i32[at + 1] = g.depth;
    for (let j = 0; j < p.Q; j++) {
      const t = g.trees[Math.min(j, g.trees.length - 1)]!;
      i32[at + 2 + 3 * j] = treeAt[2 * t]!;
      i32[at + 3 + 3 * j] = treeAt[2 * t + 1]!;
      // In-order groups add their leaves directly: the third word is the tree's margin column offset.
      i32[at + 4 + 3 * j] = p.groupsInOrder
        ? (p.W > 1 ? 0 : a.group[t]!) * 8
        : p.LEAFAT + 4 * (j < g.trees.length ? t : p.T);
    }
  });
  p.blocks.forEach(([s, e], k) => {
    i32[(p.BLOCKS >> 2) + 2 * k] = s;
    i32[(p.BLOCKS >> 2) + 2 * k + 1] = e;
  });
  if (p.leafF32) f32.set(a.leafValue, p.LEAVES >> 2);
  else f64.set(a.leafValue, p.LEAVES >> 3);
  f64.set(a.baseMargin, p.BM >> 3);
}
