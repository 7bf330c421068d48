// Exact path-dependent TreeSHAP (Lundberg et al. 2020, the algorithm behind XGBoost's
// pred_contribs and LightGBM's pred_contrib) in O(nodes x m) per tree and row, with m = half the
// most distinct features on a path, instead of the original O(leaves x depth^2).
//
// ## Why this is the same number
// For a leaf l with value v, its path's distinct features U (splits on one feature merged: cover
// fraction Z = product of z = cover(child) / cover(parent) over them, one-fraction O = 1 if the
// row takes every one of those edges, else 0), TreeSHAP gives feature i in U
//     phi_i(l) = v (O_i - Z_i) sum_{S in U \ i} |S|! (|U| - |S| - 1)! / |U|!  prod_{j in S} O_j prod_{j not in S, j != i} Z_j
// and the Shapley weight is a Beta integral, s! (n - 1 - s)! / n! = int_0^1 t^s (1 - t)^(n - 1 - s) dt, so
//     phi_i(l) = v (O_i - Z_i) int_0^1 prod_{j in U, j != i} F_j(t) dt,   F_j(t) = Z_j + t (O_j - Z_j)
// ("Linear TreeShap", Yu et al., NeurIPS 2022). The integrand is a polynomial of degree |U| - 1,
// so Gauss-Legendre with m = ceil(|U| / 2) nodes (gauss-legendre.ts) integrates it exactly.
//
// ## One pass down, one pass up
// With D_e(t) = product of F over the path to node e (down) and U_e(t) = sum over the leaves below
// e of v times the product of F below e (up), a split at node e on feature i contributes
//     int D_e(t) sum_children (O_c - Z_c) U_c(t) dt
// for the leaves whose LAST split on i is e. When an ancestor split on i earlier (edge pc), that
// ancestor already counted the leaves below e with its own factor F_pc; e replaces it: the merged
// factor of child c is Z_c + t (O_c - Z_c) with Z_c = Z_pc z_c, O_c = O_pc o_c, D divides F_pc out,
// and e subtracts what pc counted for them, (O_pc - Z_pc) U_e. If the row already left pc's path
// (O_pc = 0), e's children change nothing (the two terms cancel exactly) and e is skipped.
// O is 0 or 1 for every edge, so each step is a multiply-add per quadrature node.
//
// Covers come from the model file (shap-trees.ts); the hot branch is the branch prediction takes
// (slot-row.ts). Layout of the output: explainer.ts.
import { Container, type Descriptor } from '../container.js';
import type { TreesDescriptorExtra } from '../trees/flat-layout.js';
import { treeArrays } from '../trees/tree-model.js';
import type { Explainer } from './explainer.js';
import { makeShapPasses, type ShapPasses, type ShapScratch } from './shap-kernel.js';
import { buildShapTrees, type ShapTrees } from './shap-trees.js';
import { categoricalRight, fillSlots } from './slot-row.js';

export class TreeShapExplainer implements Explainer {
  readonly numFeatures: number;
  readonly numGroups: number;
  readonly width: number;
  readonly costPerRow: number;
  private readonly d: TreesDescriptorExtra;
  private readonly s: ShapTrees;
  /** Per tree: its quadrature size's passes. */
  private readonly passes: ShapPasses[];
  /** Trees grouped by quadrature size (leaf width 1 runs a group in one call). */
  private readonly groups: { passes: ShapPasses; trees: Int32Array }[];
  /** Bias per margin column: base margin plus every tree's expected value. */
  private readonly bias: Float64Array;
  private readonly scratch: ShapScratch;
  /**
   * Leaves' up values (each leaf value m times), per tree and output: copied into U after a tree's
   * inner nodes when its passes read leaves from U. Tree t's output k starts at
   * leafU[luOff[t] + k * nL * m].
   */
  private readonly leafU: Float64Array;
  private readonly luOff: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    const c = new Container(buffer);
    const d = c.descriptor as Descriptor & TreesDescriptorExtra;
    this.d = d;
    const a = treeArrays(c, d);
    const s = buildShapTrees(c, d, a);
    this.s = s;
    const T = d.numTrees;
    const F = d.numFeatures;
    const K = d.numGroups;
    const W = d.leafWidth;
    this.numFeatures = F;
    this.numGroups = K;
    this.width = K * (F + 1);
    this.bias = Float64Array.from(a.baseMargin);
    for (let t = 0; t < T; t++) {
      if (W > 1) for (let k = 0; k < W; k++) this.bias[k] += s.expected[t * W + k]!;
      else this.bias[s.group[t]!] += s.expected[t]!;
    }
    const n = s.maxNodes;
    this.scratch = {
      sl: new Float64Array(Math.max(1, d.slotGroups.length * F)),
      D: new Float64Array(n * s.maxM),
      U: new Float64Array(n * s.maxM),
      go: new Uint8Array(n),
      st: new Uint8Array(n),
      oin: new Uint8Array(n),
    };
    this.luOff = new Int32Array(T + 1);
    let cost = 0;
    let lu = 0;
    for (let t = 0; t < T; t++) {
      const m = s.m[t]!;
      const nI = s.start[t + 1]! - s.start[t]!;
      const nL = s.leafStart[t + 1]! - s.leafStart[t]!;
      this.luOff[t] = lu;
      lu += W * nL * m;
      cost += m * (2 * nI + W * nI);
    }
    this.luOff[T] = lu;
    this.costPerRow = cost;
    this.leafU = new Float64Array(lu);
    for (let t = 0; t < T; t++) {
      const m = s.m[t]!;
      const l0 = s.leafStart[t]!;
      const nL = s.leafStart[t + 1]! - l0;
      for (let k = 0; k < W; k++)
        for (let j = 0; j < nL; j++) {
          const at = this.luOff[t]! + (k * nL + j) * m;
          this.leafU.fill(s.leafValue[(l0 + j) * W + k]!, at, at + m);
        }
    }
    const inputs = {
      ints: s.ints,
      floats: s.floats,
      inv: s.inv,
      start: s.start,
      twigStart: s.twigStart,
      mixed: s.mixed,
      group: s.group,
      leafStart: s.leafStart,
      leafU: this.leafU,
      luOff: this.luOff,
      scratch: this.scratch,
      catRight: (j: number, x: number) => categoricalRight(d, a, j, x),
    };
    const byM = new Map<number, { passes: ShapPasses; trees: number[] }>();
    this.passes = [];
    for (let t = 0; t < T; t++) {
      const m = s.m[t]!;
      let g = byM.get(m);
      if (!g) {
        g = { passes: makeShapPasses(m, W, inputs), trees: [] };
        byM.set(m, g);
      }
      g.trees.push(t);
      this.passes.push(g.passes);
    }
    this.groups = [...byM.values()].map((g) => ({ passes: g.passes, trees: Int32Array.from(g.trees) }));
  }

  contributions(input: Float64Array, rows: number, out: Float64Array): void {
    const F = this.numFeatures;
    const K = this.numGroups;
    const W = this.s.leafWidth;
    const width = this.width;
    const sl = this.scratch.sl;
    if (input.length < rows * F || out.length < rows * width)
      throw new RangeError(`contributions: ${rows} rows need ${rows * F} inputs and ${rows * width} outputs`);
    out.fill(0, 0, rows * width);
    for (let r = 0; r < rows; r++) {
      const o = r * width;
      fillSlots(this.d, input, r * F, sl);
      for (let k = 0; k < K; k++) out[o + k * (F + 1) + F] = this.bias[k]!;
      if (W === 1) {
        for (const g of this.groups) g.passes.trees(g.trees, g.trees.length, out, o, F + 1);
      } else {
        this.wideLeaves(out, o);
      }
    }
  }

  /** Vector leaves (scikit-learn forests): one down pass, then an up pass per output. */
  private wideLeaves(out: Float64Array, o: number): void {
    const F = this.numFeatures;
    const W = this.s.leafWidth;
    const { start, leafStart, twigStart, m: qm } = this.s;
    const U = this.scratch.U;
    for (let t = 0; t < this.s.numTrees; t++) {
      const b = start[t]!;
      const nI = start[t + 1]! - b;
      if (nI === 0) continue;
      const m = qm[t]!;
      const span = (leafStart[t + 1]! - leafStart[t]!) * m;
      const p = this.passes[t]!;
      p.down(b, nI, twigStart[t]!);
      for (let k = 0; k < W; k++) {
        const lo = this.luOff[t]! + k * span;
        U.set(this.leafU.subarray(lo, lo + span), nI * m);
        p.up(b, nI, twigStart[t]!, out, o + k * (F + 1));
      }
    }
  }
}
