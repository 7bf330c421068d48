// The compiled flat layout and its kernels against the reference interpreter, on random ensembles
// that stress every rule (lt/le, f32/f64 inputs, missing types, categorical nodes, deep trees,
// multiclass, vector leaves, averaging) and on inputs sitting exactly on thresholds.
import { describe, expect, it } from 'vitest';
import { Container } from '../container.js';
import { compileTreeEnsemble } from './compile.js';
import { MAX_HEAP_DEPTH, TREE_CATEGORICAL, TREE_GENERIC, TREE_HEAP } from './flat-layout.js';
import { base, compileAndCheck, randomIR } from './random-trees.test-helper.js';
import type { TreeEnsembleIR, TreeIR } from './tree-ir.js';
import type { TreeModel } from './tree-model.js';

describe('compiled tree ensembles equal the reference interpreter bit for bit', () => {
  for (const library of ['xgboost', 'lightgbm', 'sklearn'] as const) {
    it(`${library}: heap trees of mixed depths`, () => {
      const m = compileAndCheck(randomIR(1, { ...base, library }), 11);
      expect(m.layout.thresholdType).toBe(library === 'lightgbm' ? 'f64' : 'f32');
    });
    it(`${library}: multiclass with per-class trees`, () => {
      compileAndCheck(randomIR(2, { ...base, library, groups: 3, trees: 30 }), 12);
    });
    it(`${library}: equal-depth trees (one-row walks add leaves group by group in tree order)`, () => {
      compileAndCheck(randomIR(19, { ...base, library, early: 0, trees: 21 }), 19);
      compileAndCheck(randomIR(20, { ...base, library, early: 0, groups: 3, trees: 30 }), 20);
    });
    it(`${library}: categorical nodes`, () => {
      const m = compileAndCheck(randomIR(3, { ...base, library, catProb: 0.3 }), 13);
      expect(m.layout.hasCat).toBe(true);
    });
    it(`${library}: deep lopsided trees take the generic path`, () => {
      const ir = randomIR(4, { ...base, library, depth: MAX_HEAP_DEPTH + 3, early: 0.45, trees: 9 });
      const m = compileAndCheck(ir, 14);
      expect(m.layout.hasKids).toBe(true);
    });
  }
  it('sklearn forests: vector leaves, averaged', () => {
    compileAndCheck(randomIR(5, { ...base, library: 'sklearn', groups: 3, leafWidth: 3, average: true }), 15);
  });
  it('LightGBM averaged forests keep plain sums as raw margins', () => {
    const ir = randomIR(6, { ...base, library: 'lightgbm', average: true });
    ir.averageRaw = false;
    compileAndCheck(ir, 16);
  });
  it('categorical trees on the WebAssembly kernel: every rule, bitset width and tree mix', () => {
    const rules: Array<TreeEnsembleIR['categorical']> = [
      { inSetGoesLeft: true, nan: 'right', invalid: 'right', negative: 'truncated' }, // LightGBM
      { inSetGoesLeft: false, nan: 'default', invalid: 'left', negative: 'value' }, // XGBoost >= 2.0
      { inSetGoesLeft: false, nan: 'default', invalid: 'default', negative: 'value' }, // XGBoost < 2.0
      { inSetGoesLeft: true, nan: 'left', invalid: 'default' }, // absent negative = truncated
    ];
    let seed = 40;
    for (const library of ['xgboost', 'lightgbm', 'sklearn'] as const)
      for (const categorical of rules)
        for (const o of [
          { catProb: 0.5, catWords: 1 },
          { catProb: 0.3, catWords: 3, groups: 3, trees: 30 },
          // heap, generic and categorical trees in one model
          { catProb: 0.04, depth: MAX_HEAP_DEPTH + 3, early: 0.45, trees: 20 },
          { catProb: 0.3, early: 0, trees: 17 },
        ]) {
          seed++;
          const ir = randomIR(seed, { ...base, library, ...o });
          ir.categorical = categorical;
          const m = compileAndCheck(ir, seed, true);
          expect(m.layout.hasCat).toBe(true);
          compileAndCheck(ir, seed + 1000);
        }
  });
  it('single-leaf trees and a model with no splits', () => {
    compileAndCheck(randomIR(7, { ...base, depth: 0 }), 17);
  });
});

describe('layout choices', () => {
  it('pads each heap tree to its own depth; categorical and deep trees go generic', () => {
    const ir = randomIR(8, { ...base, catProb: 0.05, trees: 40, depth: 6, early: 0.3 });
    ir.trees.push(randomIR(18, { ...base, trees: 1, depth: MAX_HEAP_DEPTH + 4, early: 0.5 }).trees[0]!);
    ir.treeGroup = new Int32Array(ir.trees.length);
    const model = compileTreeEnsemble(ir, 'xgboost_json') as TreeModel;
    const table = new Container(model.buffer).i32('tree_table');
    const depthOf = (tree: TreeIR, i = 0): number =>
      tree.left[i]! < 0 ? 0 : 1 + Math.max(depthOf(tree, tree.left[i]!), depthOf(tree, tree.right[i]!));
    ir.trees.forEach((tree, t) => {
      const hasCat = Array.from(tree.catOffset).some((c, i) => c >= 0 && tree.left[i]! >= 0);
      const kind = table[t * 4]!;
      expect(table[t * 4 + 1]).toBe(depthOf(tree));
      if (hasCat) expect(kind).toBe(TREE_CATEGORICAL);
      else if (depthOf(tree) > MAX_HEAP_DEPTH) expect(kind).toBe(TREE_GENERIC);
      else if (depthOf(tree) <= 8) expect(kind).toBe(TREE_HEAP);
    });
    expect(new Set(Array.from({ length: ir.trees.length }, (_, t) => table[t * 4]))).toEqual(
      new Set([TREE_HEAP, TREE_GENERIC, TREE_CATEGORICAL]),
    );
  });
  it('rejects a split on a feature the model does not have', () => {
    const ir = randomIR(9, base);
    ir.trees[0]!.feature[0] = 99;
    expect(() => compileTreeEnsemble(ir, 'xgboost_json')).toThrow(/feature 99/);
  });
  it('rejects a base margin of the wrong width', () => {
    const ir = randomIR(10, base);
    ir.baseMargin = new Float64Array(2);
    expect(() => compileTreeEnsemble(ir, 'xgboost_json')).toThrow(/base margin/);
  });
});
