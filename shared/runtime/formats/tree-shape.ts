// Helpers the tree parsers share: allocate a TreeIR, and check that its node arrays form one tree
// (every child index in range, every node reached at most once from the root), so a corrupt or
// hostile file can never make a predictor loop forever or read outside its arrays.

import { ModelFormatError } from '../../errors/grove-error.js';
import { MISSING_NAN, type TreeIR } from '../trees/tree-ir.js';

export function allocTree(numNodes: number, leafWidth = 1): TreeIR {
  const t: TreeIR = {
    left: new Int32Array(numNodes),
    right: new Int32Array(numNodes),
    feature: new Int32Array(numNodes),
    threshold: new Float64Array(numNodes),
    defaultLeft: new Uint8Array(numNodes),
    missingType: new Uint8Array(numNodes).fill(MISSING_NAN),
    catOffset: new Int32Array(numNodes).fill(-1),
    catWords: new Int32Array(numNodes),
    catBits: new Uint32Array(0),
    leafValue: new Float64Array(numNodes * leafWidth),
  };
  return t;
}

/** Throws ModelFormatError (naming `where`) unless `tree` is a proper tree over features < numFeatures. */
export function checkTreeShape(tree: TreeIR, numFeatures: number, where: string): void {
  const n = tree.left.length;
  if (n === 0) throw new ModelFormatError(`${where} has no nodes`);
  const seen = new Uint8Array(n);
  const stack = [0];
  seen[0] = 1;
  while (stack.length > 0) {
    const i = stack.pop() as number;
    const l = tree.left[i] as number;
    if (l < 0) continue;
    const r = tree.right[i] as number;
    if (l >= n || r < 0 || r >= n) {
      throw new ModelFormatError(`${where}: node ${i} has a child outside the tree (${l}, ${r}; ${n} nodes)`);
    }
    if (seen[l] || seen[r] || l === r) {
      throw new ModelFormatError(`${where}: node ${i} points at a node already in the tree (not a tree)`);
    }
    seen[l] = 1;
    seen[r] = 1;
    const f = tree.feature[i] as number;
    if (f < 0 || f >= numFeatures) {
      throw new ModelFormatError(
        `${where}: node ${i} splits on feature ${f}, but the model has ${numFeatures}`,
      );
    }
    const co = tree.catOffset[i] as number;
    const cw = tree.catWords[i] as number;
    if (co >= 0 && (cw < 0 || co + cw > tree.catBits.length)) {
      throw new ModelFormatError(`${where}: node ${i} has a category bitset outside the tree's bitsets`);
    }
    stack.push(l, r);
  }
}
