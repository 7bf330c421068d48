// Two independent references for testing the TreeSHAP explainer (tree-shap.ts), over a TreeIR
// with covers and a plain decision function:
// - bruteForceShap: the Shapley values of the path-dependent game v(S) = E[f(x) | x_S] (Lundberg
//   et al. 2020, Algorithm 1: follow the row at splits on features in S, else average the children
//   by cover), summed over every subset of the tree's features. Exponential; small trees only.
// - classicTreeShap: Lundberg's Algorithm 2 (EXTEND / UNWIND over unique paths), the algorithm
//   XGBoost's and LightGBM's TreeShap implement, in double.
import type { TreeIR } from '../trees/tree-ir.js';

/** Which child a row takes at inner node i: 1 = right, 0 = left. */
export type Decide = (tree: TreeIR, i: number, x: Float64Array) => number;

function ratio(tree: TreeIR, child: number, parent: number): number {
  const c = tree.cover!;
  return c[parent]! > 0 ? c[child]! / c[parent]! : 0;
}

/** v(S) for one tree and leaf output k. */
function expectation(
  tree: TreeIR,
  x: Float64Array,
  inS: (f: number) => boolean,
  decide: Decide,
  W: number,
  k: number,
): number {
  const rec = (i: number): number => {
    const l = tree.left[i]!;
    if (l < 0) return tree.leafValue[i * W + k]!;
    const r = tree.right[i]!;
    if (inS(tree.feature[i]!)) return decide(tree, i, x) ? rec(r) : rec(l);
    return ratio(tree, l, i) * rec(l) + ratio(tree, r, i) * rec(r);
  };
  return rec(0);
}

/** phi (F values) and the bias of one tree's output k, by enumerating subsets of its features. */
export function bruteForceShap(
  tree: TreeIR,
  x: Float64Array,
  F: number,
  decide: Decide,
  W = 1,
  k = 0,
): { phi: Float64Array; bias: number } {
  const used = [
    ...new Set(
      Array.from({ length: tree.left.length }, (_, i) => i)
        .filter((i) => tree.left[i]! >= 0)
        .map((i) => tree.feature[i]!),
    ),
  ];
  const n = used.length;
  const fact = (m: number): number => (m <= 1 ? 1 : m * fact(m - 1));
  const v = new Float64Array(1 << n);
  for (let mask = 0; mask < 1 << n; mask++) {
    const set = new Set(used.filter((_, j) => mask & (1 << j)));
    v[mask] = expectation(tree, x, (f) => set.has(f), decide, W, k);
  }
  const phi = new Float64Array(F);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let mask = 0; mask < 1 << n; mask++) {
      if (mask & (1 << j)) continue;
      let size = 0;
      for (let b = 0; b < n; b++) if (mask & (1 << b)) size++;
      s += ((fact(size) * fact(n - size - 1)) / fact(n)) * (v[mask | (1 << j)]! - v[mask]!);
    }
    phi[used[j]!] = s;
  }
  return { phi, bias: v[0]! };
}

interface PathElement {
  d: number;
  z: number;
  o: number;
  w: number;
}

function extend(m: PathElement[], pz: number, po: number, pi: number): PathElement[] {
  const out = m.map((e) => ({ ...e }));
  const l = out.length;
  out.push({ d: pi, z: pz, o: po, w: l === 0 ? 1 : 0 });
  for (let i = l - 1; i >= 0; i--) {
    out[i + 1]!.w += (po * out[i]!.w * (i + 1)) / (l + 1);
    out[i]!.w = (pz * out[i]!.w * (l - i)) / (l + 1);
  }
  return out;
}

function unwind(m: PathElement[], i: number): PathElement[] {
  const out = m.map((e) => ({ ...e }));
  const l = out.length - 1;
  let n = out[l]!.w;
  const { z, o } = out[i]!;
  for (let j = l - 1; j >= 0; j--) {
    if (o !== 0) {
      const t = out[j]!.w;
      out[j]!.w = (n * (l + 1)) / ((j + 1) * o);
      n = t - (out[j]!.w * z * (l - j)) / (l + 1);
    } else {
      out[j]!.w = (out[j]!.w * (l + 1)) / (z * (l - j));
    }
  }
  for (let j = i; j < l; j++) {
    out[j]!.d = out[j + 1]!.d;
    out[j]!.z = out[j + 1]!.z;
    out[j]!.o = out[j + 1]!.o;
  }
  return out.slice(0, l);
}

function unwoundSum(m: PathElement[], i: number): number {
  return unwind(m, i).reduce((s, e) => s + e.w, 0);
}

/** Lundberg's Algorithm 2 for one tree and leaf output k; adds into phi, returns the bias. */
export function classicTreeShap(
  tree: TreeIR,
  x: Float64Array,
  phi: Float64Array,
  decide: Decide,
  W = 1,
  k = 0,
): number {
  const rec = (j: number, path: PathElement[], pz: number, po: number, pi: number): void => {
    let m = extend(path, pz, po, pi);
    const l = tree.left[j]!;
    if (l < 0) {
      for (let i = 1; i < m.length; i++) {
        const w = unwoundSum(m, i);
        phi[m[i]!.d] += w * (m[i]!.o - m[i]!.z) * tree.leafValue[j * W + k]!;
      }
      return;
    }
    const r = tree.right[j]!;
    const goRight = decide(tree, j, x);
    const [h, c] = goRight ? [r, l] : [l, r];
    let iz = 1;
    let io = 1;
    const d = tree.feature[j]!;
    const at = m.findIndex((e, idx) => idx > 0 && e.d === d);
    if (at > 0) {
      iz = m[at]!.z;
      io = m[at]!.o;
      m = unwind(m, at);
    }
    rec(h, m, iz * ratio(tree, h, j), io, d);
    rec(c, m, iz * ratio(tree, c, j), 0, d);
  };
  rec(0, [], 1, 1, -1);
  let bias = 0;
  const walk = (i: number, w: number): void => {
    const l = tree.left[i]!;
    if (l < 0) {
      bias += w * tree.leafValue[i * W + k]!;
      return;
    }
    walk(l, w * ratio(tree, l, i));
    walk(tree.right[i]!, w * ratio(tree, tree.right[i]!, i));
  };
  walk(0, 1);
  return bias;
}
