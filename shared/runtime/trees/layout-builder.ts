// Lays a TreeEnsembleIR out in the flat arrays documented in flat-layout.ts: picks each tree's
// kind (padded heap, generic, categorical), the input slot of every node, and the stored threshold
// that makes `slot >= thr` mean "goes right".

import { ModelFormatError } from '../../errors/grove-error.js';
import { ContainerBuilder } from '../container.js';
import { LIMITS } from '../limits.js';
import { ExplainSectionsBuilder } from './explain-sections.js';
import {
  MAX_HEAP_DEPTH,
  SLOT_NAN_LEFT,
  SLOT_NAN_RIGHT,
  SLOT_NONE,
  SLOT_RAW,
  SLOT_ZERO_LEFT,
  SLOT_ZERO_RIGHT,
  TREE_CATEGORICAL,
  TREE_GENERIC,
  TREE_HEAP,
  TREE_TABLE_STRIDE,
  type TreesDescriptorExtra,
} from './flat-layout.js';
import { down32, nextUp32, nextUp64, up32 } from './float-steps.js';
import { MISSING_NONE, MISSING_ZERO, type TreeEnsembleIR, type TreeIR } from './tree-ir.js';

interface TreeShape {
  depth: number;
  leaves: number;
  hasCat: boolean;
  kind: number;
}

function shapeOf(tree: TreeIR, index: number): TreeShape {
  const n = tree.left.length;
  if (n === 0) throw new ModelFormatError(`tree ${index} has no nodes`);
  let depth = 0;
  let leaves = 0;
  let hasCat = false;
  const stack = [0, 0];
  let visited = 0;
  while (stack.length) {
    const d = stack.pop()!;
    const i = stack.pop()!;
    if (i < 0 || i >= n || ++visited > n) throw new ModelFormatError(`tree ${index} has a bad child index`);
    if (d > depth) depth = d;
    if (tree.left[i]! < 0) {
      leaves++;
      continue;
    }
    if (tree.catOffset[i]! >= 0) hasCat = true;
    stack.push(tree.left[i]!, d + 1, tree.right[i]!, d + 1);
  }
  let kind = TREE_GENERIC;
  if (hasCat) kind = TREE_CATEGORICAL;
  // Own-depth padding costs 2^d nodes for `leaves` real ones: fine for balanced (depth-wise) trees,
  // ruinous for deep leaf-wise ones, which take the generic path.
  else if (depth <= MAX_HEAP_DEPTH && (depth <= 8 || 2 ** depth <= 8 * leaves)) kind = TREE_HEAP;
  return { depth, leaves, hasCat, kind };
}

function slotGroupOf(tree: TreeIR, i: number): number {
  if (tree.catOffset[i]! >= 0) return SLOT_RAW;
  const mt = tree.missingType[i]!;
  const left = tree.defaultLeft[i]! !== 0;
  if (mt === MISSING_NONE) return SLOT_NONE;
  if (mt === MISSING_ZERO) return left ? SLOT_ZERO_LEFT : SLOT_ZERO_RIGHT;
  return left ? SLOT_NAN_LEFT : SLOT_NAN_RIGHT;
}

/** The stored threshold t' with "goes right" == (x >= t') (flat-layout.ts, "Thresholds"). */
export function storedThreshold(t: number, compare: 'lt' | 'le', inputPrecision: 'f32' | 'f64'): number {
  if (inputPrecision === 'f32') return compare === 'lt' ? up32(t) : nextUp32(down32(t));
  return compare === 'lt' ? t : nextUp64(t);
}

/**
 * Checks every tree's linear leaves (tree-ir.ts LinearLeaves) and concatenates their terms in tree
 * order; null when no tree has any. Bad counts, offsets or features are ModelFormatErrors here, so
 * the kernels never index out of range.
 */
function checkLinear(ir: TreeEnsembleIR): { features: Int32Array; coeffs: Float64Array } | null {
  if (!ir.trees.some((t) => t.linear)) return null;
  if (ir.leafWidth !== 1) throw new ModelFormatError('linear leaves need one value per leaf');
  let terms = 0;
  ir.trees.forEach((tree, t) => {
    const lin = tree.linear;
    if (!lin) return;
    const n = tree.left.length;
    const T = lin.linearFeature.length;
    if (
      lin.linearConst.length < n ||
      lin.linearOffset.length < n ||
      lin.linearCount.length < n ||
      lin.linearCoeff.length !== T
    )
      throw new ModelFormatError(`tree ${t}: linear leaf arrays do not match its ${n} nodes`);
    for (let i = 0; i < n; i++) {
      if (tree.left[i]! >= 0) continue;
      const off = lin.linearOffset[i]!;
      const cnt = lin.linearCount[i]!;
      if (off < 0 || cnt < 0 || off + cnt > T)
        throw new ModelFormatError(`tree ${t}: linear leaf ${i} has terms [${off}, ${off + cnt}) of ${T}`);
    }
    for (let j = 0; j < T; j++) {
      const f = lin.linearFeature[j]!;
      if (!(f >= 0 && f < ir.numFeatures))
        throw new ModelFormatError(
          `tree ${t}: a linear leaf uses feature ${f}; the model has ${ir.numFeatures} features`,
        );
    }
    terms += T;
  });
  const features = new Int32Array(terms);
  const coeffs = new Float64Array(terms);
  let at = 0;
  for (const tree of ir.trees) {
    if (!tree.linear) continue;
    features.set(tree.linear.linearFeature, at);
    coeffs.set(tree.linear.linearCoeff, at);
    at += tree.linear.linearFeature.length;
  }
  return { features, coeffs };
}

export interface TreeLayout {
  builder: ContainerBuilder;
  extra: TreesDescriptorExtra;
  usedFeatures: number[];
}

export function buildTreeLayout(ir: TreeEnsembleIR): TreeLayout {
  const F = ir.numFeatures;
  const W = ir.leafWidth;
  const T = ir.trees.length;
  const shapes = ir.trees.map(shapeOf);

  // Which slot groups are needed, and each group's position in the slot row.
  const groupUsed = new Array<boolean>(6).fill(false);
  const used = new Set<number>();
  ir.trees.forEach((tree) => {
    for (let i = 0; i < tree.left.length; i++) {
      if (tree.left[i]! < 0) continue;
      const f = tree.feature[i]!;
      if (f < 0 || f >= F)
        throw new ModelFormatError(`a split uses feature ${f}; the model has ${F} features`);
      used.add(f);
      groupUsed[slotGroupOf(tree, i)] = true;
    }
  });
  const linear = checkLinear(ir);
  if (linear) for (const f of linear.features) used.add(f);
  if (!groupUsed.some(Boolean)) groupUsed[SLOT_NAN_LEFT] = true;
  const slotGroups: number[] = [];
  const groupBase = new Int32Array(6).fill(-1);
  groupUsed.forEach((u, g) => {
    if (u) {
      groupBase[g] = slotGroups.length * F;
      slotGroups.push(g);
    }
  });

  // Sizes.
  let numNodes = 0;
  let numLeafSlots = 0;
  let hasKids = false;
  let hasCat = false;
  let catWordsTotal = 0;
  let maxDepth = 0;
  shapes.forEach((s, t) => {
    maxDepth = Math.max(maxDepth, s.depth);
    if (s.kind === TREE_HEAP) {
      numNodes += 2 ** s.depth - 1;
      numLeafSlots += 2 ** s.depth;
    } else {
      numNodes += ir.trees[t]!.left.length;
      numLeafSlots += ir.trees[t]!.left.length;
      hasKids = true;
      if (s.kind === TREE_CATEGORICAL) {
        hasCat = true;
        const tr = ir.trees[t]!;
        for (let i = 0; i < tr.left.length; i++) if (tr.catOffset[i]! >= 0) catWordsTotal += tr.catWords[i]!;
      }
    }
  });

  // Padding heap trees to their depth multiplies small deep trees' nodes (by 30 at most, shapeOf):
  // the padded layout is bounded too, before anything is allocated.
  if (
    numNodes + numLeafSlots > 4 * LIMITS.treeNodes ||
    numLeafSlots * W > LIMITS.leafValues ||
    catWordsTotal > LIMITS.categoryWords
  )
    throw new ModelFormatError(
      "the model's tree layout exceeds grove's limits (nodes, leaf values, bitsets)",
    );
  const f32 = ir.inputPrecision === 'f32';
  const nodeSlot = new Int32Array(numNodes);
  const nodeThr = f32 ? new Float32Array(numNodes) : new Float64Array(numNodes);
  const kids = new Int32Array(hasKids ? 2 * numNodes : 0);
  const nodeCat = new Int32Array(hasCat ? numNodes : 0).fill(-1);
  const nodeCatWords = new Int32Array(hasCat ? numNodes : 0);
  const nodeFlags = new Uint8Array(hasCat ? numNodes : 0);
  const catBits = new Uint32Array(catWordsTotal);
  const leafValue = new Float64Array(numLeafSlots * W);
  const table = new Int32Array(T * TREE_TABLE_STRIDE);
  const treeGroup = new Int32Array(T);
  const groupTreeCount = new Int32Array(ir.numGroups);

  // Linear leaves, per leaf slot (flat-layout.ts "Linear leaves"); terms are the trees' own arrays
  // concatenated in tree order, `termBase` being the current tree's first term.
  const linConst = new Float64Array(linear ? numLeafSlots : 0);
  const linOffset = new Int32Array(linear ? numLeafSlots : 0);
  const linCount = new Int32Array(linear ? numLeafSlots : 0);
  let termBase = 0;
  // Node covers and gains for explanations, when the trees carry them (explain-sections.ts).
  const explain = ExplainSectionsBuilder.forTrees(ir.trees);

  const thr = (t: number) => storedThreshold(t, ir.compare, ir.inputPrecision);
  const setLeaf = (tree: TreeIR, irNode: number, slot: number) => {
    explain?.ref(irNode, slot);
    for (let k = 0; k < W; k++) leafValue[slot * W + k] = tree.leafValue[irNode * W + k]!;
    if (!linear) return;
    const lin = tree.linear;
    if (lin) {
      linConst[slot] = lin.linearConst[irNode]!;
      linOffset[slot] = termBase + lin.linearOffset[irNode]!;
      linCount[slot] = lin.linearCount[irNode]!;
    } else {
      linConst[slot] = tree.leafValue[irNode]!; // a plain tree in a linear model: no terms
    }
  };

  let nodeCursor = 0;
  let leafCursor = 0;
  let catCursor = 0;
  // Depth-first over real nodes only: at most two entries per level wait on the stack.
  const heapStack = new Int32Array(3 * 2 * (maxDepth + 2));
  for (let t = 0; t < T; t++) {
    const tree = ir.trees[t]!;
    const s = shapes[t]!;
    explain?.startTree(t);
    const g = ir.treeGroup[t] ?? 0;
    if (g < 0 || g >= ir.numGroups)
      throw new ModelFormatError(`tree ${t} adds to margin column ${g} of ${ir.numGroups}`);
    treeGroup[t] = g;
    // Vector leaves (scikit-learn forests) add to every column.
    if (W > 1) for (let k = 0; k < ir.numGroups; k++) groupTreeCount[k]!++;
    else groupTreeCount[g]!++;
    const q = t * TREE_TABLE_STRIDE;
    table[q] = s.kind;
    table[q + 1] = s.depth;
    table[q + 2] = nodeCursor;
    table[q + 3] = leafCursor;
    if (s.kind === TREE_HEAP) {
      const d = s.depth;
      const inner = 2 ** d - 1;
      // (irNode, heapIndex, level), depth first. A leaf above level d pads: every heap node under
      // it gets a NaN threshold (every walk goes left) and every bottom slot under it its value,
      // both written as ranges rather than by walking the padding node by node.
      const stack = heapStack;
      let top = 0;
      stack[top++] = 0;
      stack[top++] = 0;
      stack[top++] = 0;
      while (top > 0) {
        const level = stack[--top]!;
        const h = stack[--top]!;
        const i = stack[--top]!;
        if (tree.left[i]! >= 0 && level < d) {
          explain?.ref(i, nodeCursor + h);
          nodeSlot[nodeCursor + h] = groupBase[slotGroupOf(tree, i)]! + tree.feature[i]!;
          nodeThr[nodeCursor + h] = thr(tree.threshold[i]!);
          stack[top++] = tree.left[i]!;
          stack[top++] = 2 * h + 1;
          stack[top++] = level + 1;
          stack[top++] = tree.right[i]!;
          stack[top++] = 2 * h + 2;
          stack[top++] = level + 1;
          continue;
        }
        // A leaf at heap node h of `level` (an inner node at level d cannot occur: d is the depth).
        for (let l = level, first = h, span = 1; l < d; l++, first = 2 * first + 1, span *= 2)
          for (let k = first; k < first + span; k++) nodeThr[nodeCursor + k] = Number.NaN;
        const span = 2 ** (d - level);
        const first = (h + 1) * span - 1;
        // Last slot first: the explanation sections name the first slot a leaf was written to,
        // which was the rightmost one when the padding was walked depth first.
        for (let k = first + span - 1; k >= first; k--) setLeaf(tree, i, leafCursor + k - inner);
      }
      nodeCursor += inner;
      leafCursor += inner + 1;
    } else {
      // Generic: pre-order renumbering, children as absolute node indices, leaves self-looping.
      const order: number[] = [];
      const newIndex = new Int32Array(tree.left.length).fill(-1);
      const stack = [0];
      while (stack.length) {
        const i = stack.pop()!;
        newIndex[i] = order.length;
        order.push(i);
        if (tree.left[i]! >= 0) stack.push(tree.right[i]!, tree.left[i]!);
      }
      for (let j = 0; j < order.length; j++) {
        const i = order[j]!;
        const n = nodeCursor + j;
        if (tree.left[i]! < 0) {
          nodeSlot[n] = 0;
          nodeThr[n] = Number.NaN;
          kids[2 * n] = n;
          kids[2 * n + 1] = n;
          setLeaf(tree, i, leafCursor + j);
          continue;
        }
        explain?.ref(i, n);
        kids[2 * n] = nodeCursor + newIndex[tree.left[i]!]!;
        kids[2 * n + 1] = nodeCursor + newIndex[tree.right[i]!]!;
        nodeSlot[n] = groupBase[slotGroupOf(tree, i)]! + tree.feature[i]!;
        if (tree.catOffset[i]! >= 0) {
          const words = tree.catWords[i]!;
          nodeCat[n] = catCursor;
          nodeCatWords[n] = words;
          nodeFlags[n] = tree.defaultLeft[i]! ? 1 : 0;
          for (let w = 0; w < words; w++) catBits[catCursor + w] = tree.catBits[tree.catOffset[i]! + w]!;
          catCursor += words;
          nodeThr[n] = Number.NaN;
        } else {
          nodeThr[n] = thr(tree.threshold[i]!);
        }
      }
      nodeCursor += order.length;
      leafCursor += order.length;
    }
    termBase += tree.linear?.linearFeature.length ?? 0;
  }

  const builder = new ContainerBuilder()
    .add('tree_table', table)
    .add('tree_group', treeGroup)
    .add('group_tree_count', groupTreeCount)
    .add('node_slot', nodeSlot)
    .add('node_thr', nodeThr)
    .add('node_kids', kids)
    .add('node_cat', nodeCat)
    .add('node_cat_words', nodeCatWords)
    .add('node_flags', nodeFlags)
    .add('cat_bits', catBits)
    .add('leaf_value', leafValue)
    .add('base_margin', Float64Array.from(ir.baseMargin));
  // Only linear models carry the linear sections: every other container stays as it was.
  if (linear) {
    builder
      .add('linear_const', linConst)
      .add('linear_offset', linOffset)
      .add('linear_count', linCount)
      .add('linear_feature', linear.features)
      .add('linear_coeff', linear.coeffs);
  }

  explain?.addTo(builder);

  const extra: TreesDescriptorExtra = {
    numTrees: T,
    numGroups: ir.numGroups,
    leafWidth: W,
    numFeatures: F,
    slotGroups,
    thresholdType: f32 ? 'f32' : 'f64',
    inputPrecision: ir.inputPrecision,
    sumPrecision: ir.sumPrecision,
    average: ir.average,
    averageRaw: ir.averageRaw ?? true,
    transform: ir.transform,
    sigmoidScale: ir.sigmoidScale,
    categorical: ir.categorical,
    hasKids,
    hasCat,
    maxDepth,
  };
  if (linear) extra.hasLinear = true;
  if (explain) extra.explain = explain.flags();
  return { builder, extra, usedFeatures: [...used].sort((a, b) => a - b) };
}
