// Which trees the WebAssembly image (memory-image.ts) packs where: the node range of a generic or
// categorical tree in the flat layout, and the one-row walk's lockstep groups of trees.
import { TREE_CATEGORICAL, TREE_HEAP, TREE_TABLE_STRIDE } from '../flat-layout.js';
import type { TreeArrays } from '../kernels.js';

export interface TreeGroup {
  /** 0 = heap trees of one depth, 1 = generic trees, 2 = categorical trees */
  kind: 0 | 1 | 2;
  depth: number;
  trees: number[];
}

/** A generic tree's node range [nb, nb + count) in the flat layout (pre-order, contiguous). */
export function generic(a: TreeArrays, t: number): { nb: number; count: number } {
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

/** The one-row walk's groups of Q trees in lockstep (memory-image.ts GROUPS). */
export function oneRowGroups(a: TreeArrays, T: number, Q: number): TreeGroup[] {
  // Heap trees by equal depth; generic (and, apart, categorical) trees (which may walk extra steps:
  // leaves loop on themselves) sorted by depth, each group walking its deepest tree's depth.
  const byDepth = new Map<number, number[]>();
  const genericTrees: number[] = [];
  const categorical: number[] = [];
  const groups: TreeGroup[] = [];
  for (let t = 0; t < T; t++) {
    const q = t * TREE_TABLE_STRIDE;
    const depth = a.table[q + 1]!;
    if (a.table[q] === TREE_CATEGORICAL) categorical.push(t);
    else if (a.table[q] !== TREE_HEAP) genericTrees.push(t);
    else byDepth.set(depth, [...(byDepth.get(depth) ?? []), t]);
  }
  for (const [depth, trees] of byDepth)
    for (let i = 0; i < trees.length; i += Q) groups.push({ kind: 0, depth, trees: trees.slice(i, i + Q) });
  const depthOf = (t: number) => a.table[t * TREE_TABLE_STRIDE + 1]!;
  for (const [kind, list] of [
    [1, genericTrees],
    [2, categorical],
  ] as const) {
    list.sort((x, y) => depthOf(x) - depthOf(y) || x - y);
    for (let i = 0; i < list.length; i += Q) {
      const trees = list.slice(i, i + Q);
      groups.push({ kind, depth: Math.max(...trees.map(depthOf)), trees });
    }
  }
  return groups;
}
