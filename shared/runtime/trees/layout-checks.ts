// Checks a 'trees' container against the flat layout (flat-layout.ts) before a TreeModel reads it:
// the descriptor's scalars (types, ranges, consistency with the meta), then every section's
// length and every tree's table entry, node and child, in one linear pass. After it, the kernels'
// walks stay inside their arrays and end (a generic tree is numbered exactly in pre-order, so its
// children point forward), and trees lie back to back exactly as layout-builder.ts lays them out.
// The descriptor the kernels get is the checked copy: the code generator (kernels.ts) never sees a
// value that did not pass here.
import { ModelFormatError } from '../../errors/grove-error.js';
import {
  boolField,
  checkMeta,
  enumField,
  intField,
  numberField,
  type Obj,
  objectField,
} from '../descriptor-checks.js';
import { LIMITS } from '../limits.js';
import type { ModelMeta } from '../model.js';
import {
  MAX_HEAP_DEPTH,
  TREE_CATEGORICAL,
  TREE_GENERIC,
  TREE_HEAP,
  TREE_TABLE_STRIDE,
  type TreesDescriptorExtra,
} from './flat-layout.js';
import type { TreeArrays } from './kernels.js';
import { outputWidth } from './transforms.js';
import type { CategoricalRule, TransformName } from './tree-ir.js';

/** Every output transform a container may name (transforms.ts). */
export const TRANSFORMS: readonly TransformName[] = [
  'identity',
  'sigmoid',
  'sigmoid_pair',
  'softmax',
  'ova_sigmoid',
  'exp',
  'hinge',
  'argmax',
  'log1p_exp',
  'signed_square',
];
const PRECISIONS = ['f32', 'f64'] as const;
const SIDES = ['default', 'left', 'right'] as const;

function bad(why: string): never {
  throw new ModelFormatError(`grove container (trees): ${why}`);
}

/** The checked descriptor fields and meta of a 'trees' container. */
export function checkTreesDescriptor(d: Obj): { extra: TreesDescriptorExtra; meta: ModelMeta } {
  const numGroups = intField(d, 'numGroups', 1, LIMITS.outputs);
  const leafWidth = intField(d, 'leafWidth', 1, LIMITS.outputs);
  if (leafWidth !== 1 && leafWidth !== numGroups) bad('leafWidth must be 1 or numGroups');
  const numFeatures = intField(d, 'numFeatures', 0, LIMITS.features);
  const groups = Object.hasOwn(d, 'slotGroups') ? d.slotGroups : undefined;
  if (!Array.isArray(groups) || groups.length < 1 || groups.length > 6)
    bad('slotGroups must list 1 to 6 groups');
  groups.forEach((g, i) => {
    if (!Number.isInteger(g) || g < 0 || g > 5 || (i > 0 && g <= groups[i - 1]))
      bad('slotGroups must be increasing slot group ids');
  });
  const inputPrecision = enumField(d, 'inputPrecision', PRECISIONS);
  const thresholdType = enumField(d, 'thresholdType', PRECISIONS);
  if (thresholdType !== inputPrecision) bad('thresholdType must match inputPrecision');
  const cat = objectField(d, 'categorical');
  const categorical: CategoricalRule = {
    inSetGoesLeft: boolField(cat, 'inSetGoesLeft', undefined, 'categorical.inSetGoesLeft'),
    nan: enumField(cat, 'nan', SIDES, undefined, 'categorical.nan'),
    invalid: enumField(cat, 'invalid', SIDES, undefined, 'categorical.invalid'),
    negative: enumField(
      cat,
      'negative',
      ['value', 'truncated'] as const,
      'truncated',
      'categorical.negative',
    ),
  };
  const sigmoidScale = numberField(d, 'sigmoidScale');
  if (!(sigmoidScale > 0)) bad('sigmoidScale must be positive');
  const transform = enumField(d, 'transform', TRANSFORMS);
  const extra: TreesDescriptorExtra = {
    numTrees: intField(d, 'numTrees', 0, LIMITS.trees),
    numGroups,
    leafWidth,
    numFeatures,
    slotGroups: [...(groups as number[])],
    thresholdType,
    inputPrecision,
    sumPrecision: enumField(d, 'sumPrecision', PRECISIONS),
    average: boolField(d, 'average'),
    averageRaw: boolField(d, 'averageRaw', true),
    transform,
    sigmoidScale,
    categorical,
    hasKids: boolField(d, 'hasKids'),
    hasCat: boolField(d, 'hasCat'),
    hasLinear: boolField(d, 'hasLinear', false),
    maxDepth: intField(d, 'maxDepth', 0, LIMITS.treeNodes),
  };
  if (extra.hasLinear && leafWidth !== 1) bad('linear leaves need leafWidth 1');
  const meta = checkMeta(d.meta, numFeatures, outputWidth(transform, numGroups), numGroups);
  if (meta.sparse) bad('a tree ensemble takes dense rows (meta.sparse)');
  return { extra, meta };
}

/** Checks every section against the checked descriptor `d`; throws ModelFormatError. */
export function checkTreeSections(d: TreesDescriptorExtra, a: TreeArrays): void {
  const T = d.numTrees;
  const G = d.numGroups;
  const W = d.leafWidth;
  const N = a.nodeSlot.length;
  const L = a.leafValue.length / W;
  const slots = Math.max(1, d.slotGroups.length * d.numFeatures);
  if (
    a.table.length !== T * TREE_TABLE_STRIDE ||
    a.group.length !== T ||
    a.groupTreeCount.length !== G ||
    a.baseMargin.length !== G ||
    a.nodeThr.length !== N ||
    a.kids.length !== (d.hasKids ? 2 * N : 0) ||
    a.nodeCat.length !== (d.hasCat ? N : 0) ||
    a.nodeCatWords.length !== (d.hasCat ? N : 0) ||
    a.nodeFlags.length !== (d.hasCat ? N : 0) ||
    !Number.isInteger(L)
  )
    bad('section lengths do not match the descriptor');
  const counts = new Int32Array(G);
  let catCursor = 0;
  let nodeCursor = 0;
  let leafCursor = 0;
  let maxDepth = 0;
  const stack: number[] = [];
  for (let t = 0; t < T; t++) {
    const q = t * TREE_TABLE_STRIDE;
    const kind = a.table[q]!;
    const depth = a.table[q + 1]!;
    const g = a.group[t]!;
    if (g < 0 || g >= G) bad(`tree ${t} adds to margin column ${g} of ${G}`);
    if (W > 1) for (let k = 0; k < G; k++) counts[k]!++;
    else counts[g]!++;
    // Trees lie back to back, in tree order, as layout-builder.ts writes them.
    if (a.table[q + 2] !== nodeCursor || a.table[q + 3] !== leafCursor)
      bad(`tree ${t} is not where the layout puts it`);
    if (depth > maxDepth) maxDepth = depth;
    if (kind === TREE_HEAP) {
      if (depth < 0 || depth > MAX_HEAP_DEPTH) bad(`heap tree ${t} has depth ${depth}`);
      const inner = (1 << depth) - 1;
      if (nodeCursor + inner > N || leafCursor + inner + 1 > L)
        bad(`heap tree ${t} runs past the nodes or leaves`);
      for (let i = nodeCursor; i < nodeCursor + inner; i++) {
        const s = a.nodeSlot[i]!;
        if (s < 0 || s >= slots) bad(`node ${i} reads slot ${s} of ${slots}`);
      }
      nodeCursor += inner;
      leafCursor += inner + 1;
      continue;
    }
    if (kind !== TREE_GENERIC && kind !== TREE_CATEGORICAL) bad(`tree ${t} has kind ${kind}`);
    if (!d.hasKids || (kind === TREE_CATEGORICAL && !d.hasCat))
      bad(`tree ${t} needs sections the descriptor lacks`);
    // Pre-order, exactly: the next node visited is the next index; a left child follows its
    // parent, a right child follows the left subtree; a leaf points at itself twice.
    const root = nodeCursor;
    let deepest = 0;
    stack.length = 0;
    stack.push(root, 0);
    while (stack.length > 0) {
      const level = stack.pop()!;
      const n = stack.pop()!;
      if (n !== nodeCursor || n >= N) bad(`tree ${t} is not numbered in pre-order`);
      nodeCursor++;
      const l = a.kids[2 * n]!;
      const r = a.kids[2 * n + 1]!;
      if (kind === TREE_CATEGORICAL) {
        // Bitsets follow the categorical nodes in walk order, as layout-builder.ts copies them.
        const c = a.nodeCat[n]!;
        const w = a.nodeCatWords[n]!;
        if (c !== -1 && (l === n || c !== catCursor || w < 0 || w >= 1 << 25 || c + w > a.catBits.length))
          bad(`node ${n} has a category bitset outside cat_bits`);
        if (c !== -1) catCursor += w;
      }
      if (l === n) {
        if (r !== n) bad(`leaf ${n} of tree ${t} has a child`);
        if (level > deepest) deepest = level;
        continue;
      }
      if (l !== n + 1 || r <= l || r >= N) bad(`node ${n} of tree ${t} has children outside its tree`);
      const s = a.nodeSlot[n]!;
      if (s < 0 || s >= slots) bad(`node ${n} reads slot ${s} of ${slots}`);
      stack.push(r, level + 1, l, level + 1);
    }
    if (deepest !== depth) bad(`tree ${t} says depth ${depth} but is ${deepest} deep`);
    const count = nodeCursor - root;
    if (leafCursor + count > L) bad(`tree ${t} runs past the leaves`);
    leafCursor += count;
  }
  if (nodeCursor !== N || leafCursor !== L) bad('nodes or leaves lie outside every tree');
  if (catCursor !== a.catBits.length) bad('cat_bits holds words no node uses');
  if (maxDepth !== d.maxDepth) bad(`maxDepth says ${d.maxDepth} but the deepest tree is ${maxDepth}`);
  for (let k = 0; k < G; k++)
    if (counts[k] !== a.groupTreeCount[k])
      bad(`group_tree_count[${k}] does not count the trees of column ${k}`);
}
