import { describe, expect, it } from 'vitest';
import { allocTree } from '../formats/tree-shape.js';
import { findLeaf, referencePredict, ZERO_THRESHOLD } from './reference-predict.js';
import {
  type CategoricalRule,
  MISSING_NAN,
  MISSING_NONE,
  MISSING_ZERO,
  type TreeEnsembleIR,
  type TreeIR,
} from './tree-ir.js';

/** One split on feature 0 at `t`: leaf 1 (left) = 10, leaf 2 (right) = 20. */
function stump(t: number, missing: number, defaultLeft: boolean): TreeIR {
  const tree = allocTree(3);
  tree.left.set([1, -1, -1]);
  tree.right.set([2, -1, -1]);
  tree.threshold[0] = t;
  tree.missingType[0] = missing;
  tree.defaultLeft[0] = defaultLeft ? 1 : 0;
  tree.leafValue.set([0, 10, 20]);
  return tree;
}

function ensemble(trees: TreeIR[], over: Partial<TreeEnsembleIR> = {}): TreeEnsembleIR {
  return {
    library: 'lightgbm',
    objective: 'regression',
    task: 'regression',
    numFeatures: 1,
    featureNames: null,
    compare: 'le',
    inputPrecision: 'f64',
    sumPrecision: 'f64',
    categorical: { inSetGoesLeft: true, nan: 'right', invalid: 'right' },
    numGroups: 1,
    leafWidth: 1,
    trees,
    treeGroup: new Int32Array(trees.length),
    baseMargin: new Float64Array(1),
    average: false,
    transform: 'identity',
    sigmoidScale: 1,
    classes: null,
    ...over,
  };
}

const leafOf = (ir: TreeEnsembleIR, v: number) => findLeaf(ir, ir.trees[0]!, Float64Array.of(v), 0);

describe('numeric nodes', () => {
  it("'le' and 'lt' differ exactly at the threshold", () => {
    expect(leafOf(ensemble([stump(1, MISSING_NAN, false)]), 1)).toBe(1);
    expect(leafOf(ensemble([stump(1, MISSING_NAN, false)], { compare: 'lt' }), 1)).toBe(2);
  });

  it('NaN takes the default side; ±Infinity are numbers', () => {
    for (const dl of [true, false]) {
      const ir = ensemble([stump(0, MISSING_NAN, dl)]);
      expect(leafOf(ir, Number.NaN)).toBe(dl ? 1 : 2);
      expect(leafOf(ir, Number.NEGATIVE_INFINITY)).toBe(1);
      expect(leafOf(ir, Number.POSITIVE_INFINITY)).toBe(2);
    }
  });

  it('MissingType None reads NaN as 0', () => {
    expect(leafOf(ensemble([stump(0.5, MISSING_NONE, false)]), Number.NaN)).toBe(1);
    expect(leafOf(ensemble([stump(-0.5, MISSING_NONE, true)]), Number.NaN)).toBe(2);
  });

  it('MissingType Zero sends NaN and |x| <= 1e-35f to the default side', () => {
    const ir = ensemble([stump(-5, MISSING_ZERO, true)]);
    expect(leafOf(ir, Number.NaN)).toBe(1);
    expect(leafOf(ir, 0)).toBe(1);
    expect(leafOf(ir, ZERO_THRESHOLD)).toBe(1);
    expect(leafOf(ir, -ZERO_THRESHOLD)).toBe(1);
    expect(leafOf(ir, 2e-35)).toBe(2);
  });

  it('f32 input rounding changes the side at a float32 threshold', () => {
    const t = Math.fround(0.1); // 0.10000000149...
    const x = 0.1000000001; // above 0.1, below t in double; rounds to t in float32
    const ir = ensemble([stump(t, MISSING_NAN, false)], { compare: 'lt' });
    expect(referencePredict(ir, Float64Array.of(x), 1, true)[0]).toBe(10);
    expect(referencePredict({ ...ir, inputPrecision: 'f32' }, Float64Array.of(x), 1, true)[0]).toBe(20);
  });
});

describe('categorical nodes', () => {
  function catTree(words: number[]): TreeIR {
    const tree = stump(0, MISSING_NAN, true);
    tree.catOffset[0] = 0;
    tree.catWords[0] = words.length;
    tree.catBits = Uint32Array.from(words);
    return tree;
  }
  const set = [(1 << 3) | (1 << 5), 1 << 1]; // categories 3, 5, 33
  const lgb: CategoricalRule = { inSetGoesLeft: true, nan: 'right', invalid: 'right', negative: 'truncated' };
  const xgb2: CategoricalRule = { inSetGoesLeft: false, nan: 'default', invalid: 'left', negative: 'value' };
  const xgb17: CategoricalRule = { ...xgb2, invalid: 'default' };

  it('LightGBM: set left; NaN, negatives, beyond the bitset right; fractions truncate', () => {
    const ir = ensemble([catTree(set)], { categorical: lgb });
    expect([3, 5, 33, 3.9].map((v) => leafOf(ir, v))).toEqual([1, 1, 1, 1]);
    expect(
      [0, 4, 32, 64, 1e10, Number.POSITIVE_INFINITY, Number.NaN, -1, Number.NEGATIVE_INFINITY].map((v) =>
        leafOf(ir, v),
      ),
    ).toEqual([2, 2, 2, 2, 2, 2, 2, 2, 2]);
    expect(leafOf(ir, -0.5)).toBe(2); // (int)-0.5 = 0, not in the set
  });

  it('XGBoost >= 2: set right; invalid left; NaN default', () => {
    const ir = ensemble([catTree(set)], { categorical: xgb2, compare: 'lt', inputPrecision: 'f32' });
    expect([3, 5, 33].map((v) => leafOf(ir, v))).toEqual([2, 2, 2]);
    expect([0, 4, 64, -0.5, -3, Number.POSITIVE_INFINITY].map((v) => leafOf(ir, v))).toEqual([
      1, 1, 1, 1, 1, 1,
    ]);
    expect(leafOf(ir, Number.NaN)).toBe(1); // default left
  });

  it('XGBoost 1.7: invalid goes to the default side', () => {
    const tree = catTree(set);
    tree.defaultLeft[0] = 0;
    const ir = ensemble([tree], { categorical: xgb17 });
    expect([-0.5, 64, Number.NaN].map((v) => leafOf(ir, v))).toEqual([2, 2, 2]);
    expect(leafOf(ir, 4)).toBe(1); // valid, not in the set
  });
});

describe('sums', () => {
  it('f32 sums round after every tree; the base margin comes first', () => {
    const a = stump(0, MISSING_NAN, false);
    a.leafValue.set([0, 1e-8, 1e-8]);
    const ir = ensemble([a, a, a], { baseMargin: Float64Array.of(1), sumPrecision: 'f32' });
    expect(referencePredict(ir, Float64Array.of(0), 1, true)[0]).toBe(1); // each 1e-8 is lost in float32
    expect(referencePredict({ ...ir, sumPrecision: 'f64' }, Float64Array.of(0), 1, true)[0]).toBeCloseTo(
      1 + 3e-8,
      15,
    );
  });

  it('average divides by the trees of each group; averageRaw=false keeps raw sums', () => {
    const ir = ensemble([stump(0, MISSING_NAN, false), stump(0, MISSING_NAN, false)], { average: true });
    expect(referencePredict(ir, Float64Array.of(-1), 1, false)[0]).toBe(10);
    expect(referencePredict(ir, Float64Array.of(-1), 1, true)[0]).toBe(10);
    expect(referencePredict({ ...ir, averageRaw: false }, Float64Array.of(-1), 1, true)[0]).toBe(20);
  });

  it('vector leaves add to every group', () => {
    const t = allocTree(1, 2);
    t.left[0] = -1;
    t.leafValue.set([0.25, 0.75]);
    const ir = ensemble([t, t], {
      numGroups: 2,
      leafWidth: 2,
      average: true,
      baseMargin: new Float64Array(2),
    });
    expect(Array.from(referencePredict(ir, Float64Array.of(0), 1, false))).toEqual([0.25, 0.75]);
  });
});
