// Pipelines of dense steps (imputer, scalers) in front of a tree ensemble, folded EXACTLY into the
// trees so the model stays one flat tree layout: a node tests `h(x) <= t` where h is the steps'
// per-feature chain followed by the tree's own input rounding (float32 for sklearn's trees). Every
// step is nondecreasing in x (positive scales: sklearn replaces zero scales by 1, MinMaxScaler's
// feature_range is increasing, clipping is monotone, and IEEE rounding of x - m, x / s, x * s + m
// is monotone), so {x : h(x) <= t} is all doubles up to some x*: binary search over the doubles
// in order finds x*, and the node becomes `x <= x*` on raw float64 input. NaN goes where the
// imputed value goes (h(NaN) <= t), or keeps the node's missing direction when nothing imputes.
// Only numeric nodes fold; an ensemble with categorical splits behind scalers is refused.
import { UnsupportedModelError } from '../../../errors/grove-error.js';
import type { TreeEnsembleIR, TreeIR } from '../../trees/tree-ir.js';
import { applyStep, type FittedStep } from './dense-steps.js';

const f64 = new Float64Array(1);
const i64 = new BigInt64Array(f64.buffer);
const SIGN = 1n << 63n;

/** Doubles as ordered integers (-Infinity lowest, +Infinity highest; NaN never asked). */
function toOrdered(x: number): bigint {
  f64[0] = x;
  const bits = i64[0]!;
  return bits < 0n ? -BigInt.asUintN(63, bits) - 1n : bits;
}
function fromOrdered(k: bigint): number {
  i64[0] = k < 0n ? BigInt.asIntN(64, -(k + 1n) | SIGN) : k;
  return f64[0]!;
}

/** The largest double x with pred(x) true, for a predicate true on a prefix of the doubles. */
function lastTrue(pred: (x: number) => boolean): number {
  if (pred(Number.POSITIVE_INFINITY)) return Number.POSITIVE_INFINITY;
  // Nothing passes: -Infinity is the closest threshold (only x = -Infinity would go left, and
  // scikit-learn's imputer and scalers reject infinite inputs, so it never reaches the trees).
  if (!pred(Number.NEGATIVE_INFINITY)) return Number.NEGATIVE_INFINITY;
  let lo = toOrdered(Number.NEGATIVE_INFINITY); // pred(lo) true
  let hi = toOrdered(Number.POSITIVE_INFINITY); // pred(hi) false
  while (hi - lo > 1n) {
    const mid = lo + (hi - lo) / 2n;
    if (pred(fromOrdered(mid))) lo = mid;
    else hi = mid;
  }
  return fromOrdered(lo);
}

export function foldStepsIntoTrees(ir: TreeEnsembleIR, steps: FittedStep[]): TreeEnsembleIR {
  if (ir.compare !== 'le') throw new UnsupportedModelError('only x <= t trees can absorb pipeline steps');
  const f32 = ir.inputPrecision === 'f32';
  const h = (j: number, x: number): number => {
    let v = x;
    for (const s of steps) v = applyStep(s, j, v);
    return f32 ? Math.fround(v) : v;
  };
  const memo = new Map<string, number>();
  const trees: TreeIR[] = ir.trees.map((t) => {
    const threshold = t.threshold.slice();
    const defaultLeft = t.defaultLeft.slice();
    for (let i = 0; i < t.left.length; i++) {
      if (t.left[i]! < 0) continue;
      if (t.catOffset[i]! >= 0)
        throw new UnsupportedModelError('categorical tree splits behind pipeline scalers are not supported');
      const j = t.feature[i]!;
      const thr = t.threshold[i]!;
      const key = `${j}:${thr}`;
      let x = memo.get(key);
      if (x === undefined) {
        x = lastTrue((v) => h(j, v) <= thr);
        memo.set(key, x);
      }
      threshold[i] = x;
      const nan = h(j, Number.NaN);
      if (!Number.isNaN(nan)) defaultLeft[i] = nan <= thr ? 1 : 0;
    }
    return { ...t, threshold, defaultLeft };
  });
  return { ...ir, trees, inputPrecision: 'f64' };
}
