// The reference interpreter of a TreeEnsembleIR: slow and plain on purpose. It walks every tree node
// by node with the IR's rules written out one by one, so the fast kernels (flat layout, WebAssembly)
// are tested against it, and it against the libraries' own predictions (fixtures' pred.csv/raw.csv).

import { applyTransform, outputWidth } from './transforms.js';
import {
  type CategoricalRule,
  MISSING_NONE,
  MISSING_ZERO,
  type TreeEnsembleIR,
  type TreeIR,
} from './tree-ir.js';

/** LightGBM kZeroThreshold is the float 1e-35f; IsZero compares the double against it. */
export const ZERO_THRESHOLD = Math.fround(1e-35);

/** Which leaf a row (already rounded if the IR says f32) reaches in one tree. */
export function findLeaf(ir: TreeEnsembleIR, tree: TreeIR, x: Float64Array, xOff: number): number {
  const lt = ir.compare === 'lt';
  let i = 0;
  while ((tree.left[i] as number) >= 0) {
    let v = x[xOff + (tree.feature[i] as number)] as number;
    const dl = tree.defaultLeft[i] === 1;
    let goLeft: boolean;
    if ((tree.catOffset[i] as number) >= 0) {
      goLeft = categoricalGoesLeft(ir.categorical, tree, i, v, dl);
    } else {
      const mt = tree.missingType[i];
      if (Number.isNaN(v)) {
        if (mt === MISSING_NONE) v = 0; // LightGBM MissingType::None reads NaN as 0
      }
      if (Number.isNaN(v)) {
        goLeft = dl;
      } else if (mt === MISSING_ZERO && v >= -ZERO_THRESHOLD && v <= ZERO_THRESHOLD) {
        goLeft = dl;
      } else {
        const t = tree.threshold[i] as number;
        goLeft = lt ? v < t : v <= t;
      }
    }
    i = goLeft ? (tree.left[i] as number) : (tree.right[i] as number);
  }
  return i;
}

function side(rule: 'left' | 'right' | 'default', dl: boolean): boolean {
  return rule === 'default' ? dl : rule === 'left';
}

export function categoricalGoesLeft(
  rule: CategoricalRule,
  tree: TreeIR,
  i: number,
  v: number,
  dl: boolean,
): boolean {
  if (Number.isNaN(v)) return side(rule.nan, dl);
  const c = Math.trunc(v);
  const negative = rule.negative === 'value' ? v < 0 : c < 0;
  const words = tree.catWords[i] as number;
  if (negative || c >= 32 * words) return side(rule.invalid, dl);
  const word = tree.catBits[(tree.catOffset[i] as number) + (c >>> 5)] as number;
  const inSet = ((word >>> (c & 31)) & 1) === 1;
  return inSet === rule.inSetGoesLeft;
}

/**
 * Predicts `rows` dense rows (row-major, ir.numFeatures wide, NaN = missing). Returns margins
 * (rows x numGroups) when raw, else transformed outputs (rows x outputWidth).
 */
export function referencePredict(
  ir: TreeEnsembleIR,
  input: Float64Array,
  rows: number,
  raw: boolean,
): Float64Array {
  const F = ir.numFeatures;
  const G = ir.numGroups;
  const width = raw ? G : outputWidth(ir.transform, G);
  const out = new Float64Array(rows * width);
  const x = new Float64Array(F);
  const sums = new Float64Array(G);
  const counts = new Float64Array(G);
  const f32Sum = ir.sumPrecision === 'f32';
  const vectorLeaves = ir.leafWidth > 1;
  for (let t = 0; t < ir.trees.length; t++) {
    if (vectorLeaves) for (let k = 0; k < G; k++) counts[k] = (counts[k] as number) + 1;
    else counts[ir.treeGroup[t] as number] = (counts[ir.treeGroup[t] as number] as number) + 1;
  }
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < F; f++) {
      const v = input[r * F + f] as number;
      x[f] = ir.inputPrecision === 'f32' ? Math.fround(v) : v;
    }
    // Sums start from the base margin (XGBoost fills its output with it before the trees), except
    // for averaged forests, where it is added after dividing.
    const average = ir.average && (!raw || ir.averageRaw !== false);
    for (let k = 0; k < G; k++) sums[k] = average ? 0 : (ir.baseMargin[k] as number);
    for (let t = 0; t < ir.trees.length; t++) {
      const tree = ir.trees[t] as TreeIR;
      const leaf = findLeaf(ir, tree, x, 0);
      if (tree.linear) {
        const g = ir.treeGroup[t] as number;
        sums[g] = add(sums[g] as number, linearLeaf(tree, leaf, x), f32Sum);
      } else if (vectorLeaves) {
        for (let k = 0; k < G; k++)
          sums[k] = add(sums[k] as number, tree.leafValue[leaf * ir.leafWidth + k] as number, f32Sum);
      } else {
        const g = ir.treeGroup[t] as number;
        sums[g] = add(sums[g] as number, tree.leafValue[leaf] as number, f32Sum);
      }
    }
    if (average) {
      for (let k = 0; k < G; k++) {
        const n = counts[k] as number;
        sums[k] = (n > 0 ? (sums[k] as number) / n : 0) + (ir.baseMargin[k] as number);
      }
    }
    if (raw) for (let k = 0; k < G; k++) out[r * width + k] = sums[k] as number;
    else applyTransform(ir.transform, ir.sigmoidScale, sums, 0, G, out, r * width);
  }
  return out;
}

/**
 * A linear leaf's output (tree-ir.ts LinearLeaves): const + coeff . x in term order, or the plain
 * leaf value when any term's x is NaN; an x with |x| <= 1e-35f counts as 0, as LightGBM's dense
 * rows do.
 */
export function linearLeaf(tree: TreeIR, leaf: number, x: Float64Array): number {
  const lin = tree.linear as NonNullable<TreeIR['linear']>;
  let out = lin.linearConst[leaf] as number;
  const start = lin.linearOffset[leaf] as number;
  const end = start + (lin.linearCount[leaf] as number);
  for (let j = start; j < end; j++) {
    let v = x[lin.linearFeature[j] as number] as number;
    if (Number.isNaN(v)) return tree.leafValue[leaf] as number;
    if (Math.abs(v) <= ZERO_THRESHOLD) v = 0;
    out += (lin.linearCoeff[j] as number) * v;
  }
  return out;
}

function add(a: number, b: number, f32: boolean): number {
  return f32 ? Math.fround(a + b) : a + b;
}
