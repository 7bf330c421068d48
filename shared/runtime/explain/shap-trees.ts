// The trees of a tree model re-laid for TreeSHAP (tree-shap.ts), read once per model and thread
// from the container's explanation sections (flat-layout.ts, "Explanation sections"). Only inner
// nodes get a record, numbered per tree in pre-order (parents before children: one forward pass
// goes down, one backward pass comes up); leaves are read where their parent names them. A record
// holds everything that does not depend on the row: how the split decides, each child edge's
// cover fraction z = cover(child) / cover(node), the fraction merged with the earlier splits on
// the same feature along the path (TreeSHAP counts a feature once per path), which earlier edge
// that was, and 1 / F_pc(t) at the quadrature nodes for such repeated splits.
import { ExplainUnavailableError } from '../../errors/grove-error.js';
import type { Container } from '../container.js';
import type { ModelMeta } from '../model.js';
import type { TreesDescriptorExtra } from '../trees/flat-layout.js';
import type { TreeArrays } from '../trees/kernels.js';
import { gaussLegendre } from './gauss-legendre.js';
import { refusalOf } from './refusals.js';

// Tree-local node numbers: inner nodes 0 .. nI - 1, then the leaves nI .. nI + nL - 1, so the
// passes index one array for both and need no leaf test. Inner nodes are in pre-order (0 is the
// root), except that "twigs" (inner nodes whose children are both leaves; half the inner nodes of
// a full tree) come last, from twigStart: parents still precede children, and the passes give
// twigs a shorter path (no down products for leaves, leaf values read from the record).
/** Int32 record fields (REC values per inner node). */
export const I_KIND = 0; // bits: CATEGORICAL
export const I_LEFT = 1; // tree-local node number of the left child
export const I_RIGHT = 2;
export const I_SLOT = 3; // slot-row index the split reads (flat-layout.ts "Input slots")
export const I_FLAT = 4; // the flat node (categorical splits read node_cat through it)
export const I_PREV = 5; // inner node the last earlier edge on this feature leads to; 0 (the root, whose incoming one-fraction is always 1) when none
export const I_FEATURE = 6;
export const I_INV = 7; // offset of m values 1 / F_pc(t_k) in `inv`; ONES (all 1) when not repeated
/** Float64 record fields; the passes pick [F_ZL, F_ZR] or [F_OWN_L, F_OWN_R] by the row's state. */
export const F_ZL = 0; // merged cover fraction of the left edge
export const F_ZR = 1;
export const F_OWN_L = 2; // the left edge's own cover fraction
export const F_OWN_R = 3;
export const F_THR = 4; // goes right iff slot >= thr (numeric splits)
export const F_BP = 5; // 1 - merged fraction of the earlier edge on this feature; 0 when none
export const F_VL = 6; // twigs: the left leaf's value (leaf width 1)
export const F_VR = 7;
export const REC = 8;

export const CATEGORICAL = 1;
/** Offset of a run of ones in `inv` (as long as the largest quadrature). */
export const ONES = 0;

export interface ShapTrees {
  numTrees: number;
  /** Tree t's inner records are [start[t], start[t + 1]); start[t] is its root (none: a single leaf). */
  start: Int32Array;
  /** Tree t's leaves are leaf ids [leafStart[t], leafStart[t + 1]), in tree-local order. */
  leafStart: Int32Array;
  /** Per tree: the first twig (tree-local); twigStart = nI when none. */
  twigStart: Int32Array;
  /** Per tree: 1 when an inner node that is not a twig has a leaf child (it reads leaves' U). */
  mixed: Uint8Array;
  ints: Int32Array;
  floats: Float64Array;
  /** Leaf values, leafWidth per leaf id (times 1 / trees-per-column for averaged forests). */
  leafValue: Float64Array;
  leafWidth: number;
  /** Per tree: quadrature size m (half the most distinct features on a path, rounded up). */
  m: Int32Array;
  inv: Float64Array;
  /** Per tree: the margin column it adds to (leafWidth 1). */
  group: Int32Array;
  /** Per tree and output: the tree's expected value (leaves weighted by cover), the bias share. */
  expected: Float64Array;
  /** Most nodes (inner and leaves) in one tree, and the largest quadrature size. */
  maxNodes: number;
  maxM: number;
}

/** Moves tree t's twigs after its other inner nodes (see the numbering above) and fills their leaf values. */
function twigsLast(s: ShapTrees, t: number, first: number, nI: number, firstLeaf: number): void {
  const { ints, floats } = s;
  const twig = (i: number) =>
    ints[(first + i) * REC + I_LEFT]! >= nI && ints[(first + i) * REC + I_RIGHT]! >= nI;
  const order = new Int32Array(nI);
  let at = 0;
  let mixed = 0;
  for (let i = 0; i < nI; i++)
    if (!twig(i)) {
      order[at++] = i;
      const p = (first + i) * REC;
      if (ints[p + I_LEFT]! >= nI || ints[p + I_RIGHT]! >= nI) mixed = 1;
    }
  s.twigStart[t] = at;
  s.mixed[t] = mixed;
  for (let i = 0; i < nI; i++) if (twig(i)) order[at++] = i;
  const newIndex = new Int32Array(nI);
  for (let j = 0; j < nI; j++) newIndex[order[j]!] = j;
  const oldInts = ints.slice(first * REC, (first + nI) * REC);
  const oldFloats = floats.slice(first * REC, (first + nI) * REC);
  const W = s.leafWidth;
  for (let j = 0; j < nI; j++) {
    const p = (first + j) * REC;
    ints.set(oldInts.subarray(order[j]! * REC, (order[j]! + 1) * REC), p);
    floats.set(oldFloats.subarray(order[j]! * REC, (order[j]! + 1) * REC), p);
    if (ints[p + I_LEFT]! < nI) ints[p + I_LEFT] = newIndex[ints[p + I_LEFT]!]!;
    if (ints[p + I_RIGHT]! < nI) ints[p + I_RIGHT] = newIndex[ints[p + I_RIGHT]!]!;
    ints[p + I_PREV] = newIndex[ints[p + I_PREV]!]!;
    if (j >= s.twigStart[t]!) {
      floats[p + F_VL] = s.leafValue[(firstLeaf + ints[p + I_LEFT]! - nI) * W]!;
      floats[p + F_VR] = s.leafValue[(firstLeaf + ints[p + I_RIGHT]! - nI) * W]!;
    }
  }
}

/**
 * The quadrature size a tree uses for m needed nodes: exact up to 8, then rounded up (more nodes
 * than needed stay exact) so deep trees share a few generated pass variants (shap-kernel.ts).
 */
export function quadrature(m: number): number {
  if (m <= 8) return m;
  let size = 8;
  while (size < m) size = size < 32 ? size + 8 : size * 2;
  return size;
}

const ENTER = 0;
const EXIT = 1;

/** Builds the TreeSHAP view of a tree container (refusals.ts says which it refuses). */
export function buildShapTrees(c: Container, d: TreesDescriptorExtra, a: TreeArrays): ShapTrees {
  const refusal = refusalOf(c, (c.descriptor as unknown as { meta: ModelMeta }).meta);
  if (refusal) throw refusal;
  const base = c.i32('explain_tree_base');
  const kids = c.i32('explain_kids');
  const refs = c.i32('explain_ref');
  const cover = c.f64('explain_cover');
  const T = d.numTrees;
  const W = d.leafWidth;
  const F = d.numFeatures;
  if (
    base.length !== T + 1 ||
    !(base[T]! <= refs.length && 2 * base[T]! <= kids.length && base[T]! <= cover.length)
  )
    throw new ExplainUnavailableError('the explanation sections do not match the trees');
  const total = base[T]!;
  const ints = new Int32Array(total * REC);
  const floats = new Float64Array(total * REC);
  const leafValue = new Float64Array(total * W);
  const s: ShapTrees = {
    numTrees: T,
    start: new Int32Array(T + 1),
    leafStart: new Int32Array(T + 1),
    twigStart: new Int32Array(T),
    mixed: new Uint8Array(T),
    ints,
    floats,
    leafValue,
    leafWidth: W,
    m: new Int32Array(T),
    inv: new Float64Array(0),
    group: Int32Array.from(a.group),
    expected: new Float64Array(T * W),
    maxNodes: 1,
    maxM: 1,
  };
  // Averaged forests (scikit-learn): each tree counts 1 / its column's tree count. LightGBM's
  // random forests average only the transformed output; their raw score, which their
  // contributions sum to, is the plain sum (tree-ir.ts averageRaw).
  const scale = new Float64Array(d.numGroups).fill(1);
  if (d.average && d.averageRaw)
    for (let g = 0; g < d.numGroups; g++) {
      const n = a.groupTreeCount[g]!;
      scale[g] = n > 0 ? 1 / n : 0;
    }
  const cat = d.hasCat ? a.nodeCat : null;
  // Walk state: per feature, the inner record the last edge out of a split on it leads to (-1:
  // none on the path); per inner record: its cover, merged fraction into it, path weight.
  const lastEdge = new Int32Array(F).fill(-1);
  const coverOf = new Float64Array(total);
  const zIn = new Float64Array(total);
  const weight = new Float64Array(total);
  // The run of ones first, as long as any tree's quadrature can be (distinct features on a path
  // are at most min(F, depth)).
  const onesLength = quadrature(Math.ceil(Math.min(F, d.maxDepth) / 2) || 1);
  let inv = new Float64Array(Math.max(64, onesLength * 2));
  inv.fill(1, 0, onesLength);
  let invLength = onesLength;
  // Frames of 4: each node pushes at most three (two children, one exit) and pops one.
  const stack = new Int32Array(8 * total + 8);
  let sp = 0;
  let inner = 0;
  let leaves = 0;
  for (let t = 0; t < T; t++) {
    const b = base[t]!;
    const n = base[t + 1]! - b;
    if (!(n > 0 && b >= 0))
      throw new ExplainUnavailableError(`tree ${t} has no nodes in the explanation sections`);
    const first = inner;
    const firstLeaf = leaves;
    s.start[t] = first;
    s.leafStart[t] = firstLeaf;
    const g = W > 1 ? 0 : s.group[t]!;
    let unique = 0;
    let maxUnique = 0;
    let visited = 0;
    // ENTER frames: IR node, parent record (-1 at the root), 1 if the right child, ENTER.
    // EXIT frames: feature, its previous lastEdge, 1 if it was new on the path, EXIT.
    stack[0] = 0;
    stack[1] = -1;
    stack[2] = 0;
    stack[3] = ENTER;
    sp = 4;
    while (sp > 0) {
      const kind = stack[--sp]!;
      const side = stack[--sp]!;
      const parent = stack[--sp]!;
      const ir = stack[--sp]!;
      if (kind === EXIT) {
        lastEdge[ir] = parent;
        unique -= side;
        continue;
      }
      if (!(ir >= 0 && ir < n) || ++visited > n)
        throw new ExplainUnavailableError(`tree ${t}: the explanation sections are not a tree`);
      const isLeaf = kids[2 * (b + ir)]! < 0;
      const id = isLeaf ? leaves++ : inner++;
      const cov = cover[b + ir]!;
      let w = 1;
      let isNew = 0;
      if (parent >= 0) {
        const pc = coverOf[parent]!;
        const z = pc > 0 && cov >= 0 && Number.isFinite(pc) && Number.isFinite(cov) ? cov / pc : 0;
        const p = parent * REC;
        const f = ints[p + I_FEATURE]!;
        const old = lastEdge[f]!;
        const zMerged = old >= 0 ? zIn[old]! * z : z;
        w = weight[parent]! * z;
        isNew = old < 0 ? 1 : 0;
        // Leaves as -(ordinal + 1) until the tree's inner count is known.
        ints[p + (side ? I_RIGHT : I_LEFT)] = isLeaf ? -(id - firstLeaf) - 1 : id - first;
        floats[p + (side ? F_ZR : F_ZL)] = zMerged;
        floats[p + (side ? F_OWN_R : F_OWN_L)] = z;
        if (!isLeaf) {
          zIn[id] = zMerged;
          lastEdge[f] = id;
          unique += isNew;
          stack[sp++] = f;
          stack[sp++] = old;
          stack[sp++] = isNew;
          stack[sp++] = EXIT;
        }
      }
      const ref = refs[b + ir]!;
      if (isLeaf) {
        if (!(ref >= 0 && (ref + 1) * W <= a.leafValue.length))
          throw new ExplainUnavailableError(`tree ${t}: a leaf has no leaf slot`);
        for (let k = 0; k < W; k++) {
          const v = a.leafValue[ref * W + k]! * scale[W > 1 ? k : g]!;
          leafValue[id * W + k] = v;
          s.expected[t * W + k] += v * w;
        }
        if (unique + isNew > maxUnique) maxUnique = unique + isNew;
        continue;
      }
      const l = kids[2 * (b + ir)]!;
      const r = kids[2 * (b + ir) + 1]!;
      if (!(ref >= 0 && ref < a.nodeSlot.length && r >= 0))
        throw new ExplainUnavailableError(`tree ${t}: an inner node has no flat node`);
      const p = id * REC;
      const slot = a.nodeSlot[ref]!;
      const f = slot % F;
      coverOf[id] = cov;
      weight[id] = w;
      if (parent < 0) zIn[id] = 1;
      ints[p + I_SLOT] = slot;
      ints[p + I_FLAT] = ref;
      ints[p + I_FEATURE] = f;
      ints[p + I_PREV] = 0;
      ints[p + I_INV] = ONES;
      floats[p + F_THR] = a.nodeThr[ref]!;
      ints[p + I_KIND] = cat && cat[ref]! >= 0 ? CATEGORICAL : 0;
      const prev = lastEdge[f]!;
      if (prev >= 0) {
        ints[p + I_PREV] = prev - first;
        ints[p + I_INV] = -1; // filled below, once the tree's quadrature size is known
        floats[p + F_BP] = 1 - zIn[prev]!;
      }
      stack[sp++] = r;
      stack[sp++] = id;
      stack[sp++] = 1;
      stack[sp++] = ENTER;
      stack[sp++] = l;
      stack[sp++] = id;
      stack[sp++] = 0;
      stack[sp++] = ENTER;
    }
    const m = quadrature(Math.max(1, Math.ceil(maxUnique / 2)));
    s.m[t] = m;
    if (m > s.maxM) s.maxM = m;
    const nI = inner - first;
    if (nI + leaves - firstLeaf > s.maxNodes) s.maxNodes = nI + leaves - firstLeaf;
    const q = gaussLegendre(m);
    for (let i = first; i < inner; i++) {
      const p = i * REC;
      if (ints[p + I_LEFT]! < 0) ints[p + I_LEFT] = nI - ints[p + I_LEFT]! - 1;
      if (ints[p + I_RIGHT]! < 0) ints[p + I_RIGHT] = nI - ints[p + I_RIGHT]! - 1;
    }
    twigsLast(s, t, first, nI, firstLeaf);
    for (let i = first; i < inner; i++) {
      const p = i * REC;
      if (ints[p + I_INV]! !== -1) continue;
      if (invLength + m > inv.length) {
        const grown = new Float64Array(2 * (invLength + m));
        grown.set(inv.subarray(0, invLength));
        inv = grown;
      }
      ints[p + I_INV] = invLength;
      const bp = floats[p + F_BP]!;
      for (let j = 0; j < m; j++) inv[invLength + j] = 1 / (1 - bp + bp * q.t[j]!);
      invLength += m;
    }
  }
  if (quadrature(s.maxM) > onesLength)
    throw new ExplainUnavailableError('a tree is deeper than the model says (descriptor maxDepth)');
  s.start[T] = inner;
  s.leafStart[T] = leaves;
  s.inv = inv.slice(0, invLength);
  return s;
}
