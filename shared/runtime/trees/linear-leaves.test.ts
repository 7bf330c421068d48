// LightGBM linear trees (linear_tree=true): the JavaScript kernels equal the reference interpreter
// bit for bit on random ensembles whose leaves carry linear terms, and the leaf rules (a NaN term
// falls back to the plain leaf value, |x| <= 1e-35f is 0) hold on a hand-made tree.
import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../errors/grove-error.js';
import { Container } from '../container.js';
import { allocTree } from '../formats/tree-shape.js';
import { compileTreeEnsemble } from './compile.js';
import { MAX_HEAP_DEPTH } from './flat-layout.js';
import { base, compileAndCheck, type Opts, randomIR, withLinearLeaves } from './random-trees.test-helper.js';
import { MISSING_NAN, type TreeIR } from './tree-ir.js';
import { TreeModel } from './tree-model.js';

describe('linear leaves (LightGBM linear_tree): kernels equal the reference bit for bit', () => {
  const lgb: Opts = { ...base, library: 'lightgbm' };
  it('heap trees, binary', () => {
    const m = compileAndCheck(withLinearLeaves(randomIR(21, lgb), 31), 41);
    expect(m.layout.hasLinear).toBe(true);
    expect(m.kernel).toBe('js');
  });
  it('multiclass, some trees plain', () => {
    compileAndCheck(withLinearLeaves(randomIR(22, { ...lgb, groups: 3, trees: 30 }), 32, true), 42);
  });
  it('equal-depth trees (the one-row path walks four trees in lockstep)', () => {
    compileAndCheck(withLinearLeaves(randomIR(23, { ...lgb, early: 0, trees: 21 }), 33), 43);
  });
  it('deep lopsided trees (generic) and categorical nodes', () => {
    const deep = randomIR(24, { ...lgb, depth: MAX_HEAP_DEPTH + 3, early: 0.45, trees: 9 });
    expect(compileAndCheck(withLinearLeaves(deep, 34), 44).layout.hasKids).toBe(true);
    const cat = randomIR(25, { ...lgb, catProb: 0.3 });
    expect(compileAndCheck(withLinearLeaves(cat, 35), 45).layout.hasCat).toBe(true);
  });
  it('averaged forests with plain raw sums, and single-leaf trees', () => {
    const rf = withLinearLeaves(randomIR(26, { ...lgb, average: true }), 36);
    rf.averageRaw = false;
    compileAndCheck(rf, 46);
    compileAndCheck(withLinearLeaves(randomIR(27, { ...lgb, depth: 0 }), 37), 47);
  });
  it('a linear leaf NaN falls back to the leaf value; |x| <= 1e-35f counts as 0', () => {
    // One split on f0 (x <= 0 or NaN left); leaf 1: 2 + 3 * f1, plain value 7; leaf 2: no terms, const 5.
    const ir = randomIR(28, { ...lgb, depth: 0, trees: 1, features: 2 });
    const tree = allocTree(3, 1);
    tree.left.set([1, -1, -1]);
    tree.right.set([2, -1, -1]);
    tree.missingType[0] = MISSING_NAN;
    tree.defaultLeft[0] = 1; // NaN in f0 goes left
    tree.leafValue.set([0, 7, 9]);
    tree.linear = {
      linearConst: Float64Array.of(0, 2, 5),
      linearOffset: Int32Array.of(0, 0, 1),
      linearCount: Int32Array.of(0, 1, 0),
      linearFeature: Int32Array.of(1),
      linearCoeff: Float64Array.of(3),
    };
    ir.trees = [tree];
    ir.transform = 'identity';
    ir.baseMargin = new Float64Array(1);
    const model = compileTreeEnsemble(ir, 'lightgbm_text');
    const rows = [
      [-1, 1, 5],
      [-1, Number.NaN, 7],
      [-1, 1e-36, 2],
      [-1, -1e-35, 2],
      [1, Number.NaN, 5],
      [Number.NaN, 2, 8],
    ];
    const out = new Float64Array(1);
    for (const [a, b, want] of rows) {
      model.predictOne(Float64Array.of(a!, b!), out, true);
      expect(out[0], `row ${a}, ${b}`).toBe(want);
    }
    expect(model.meta.usedFeatures).toEqual([0, 1]);
  });
});

describe('malformed linear leaves are refused', () => {
  it('rejects linear leaves that point outside their terms or the row', () => {
    const make = () => withLinearLeaves(randomIR(29, { ...base, library: 'lightgbm' }), 39);
    const leafOf = (tree: TreeIR) => Array.from(tree.left).findIndex((l) => l < 0);
    let ir = make();
    ir.trees[0]!.linear!.linearFeature[0] = 6;
    ir.trees[0]!.linear!.linearCount[leafOf(ir.trees[0]!)] = 1;
    expect(() => compileTreeEnsemble(ir, 'lightgbm_text')).toThrow(ModelFormatError);
    ir = make();
    ir.trees[1]!.linear!.linearCount[leafOf(ir.trees[1]!)] = 1000;
    expect(() => compileTreeEnsemble(ir, 'lightgbm_text')).toThrow(/linear leaf/);
    ir = make();
    ir.trees[2]!.linear!.linearCoeff = new Float64Array(0);
    ir.trees[2]!.linear!.linearFeature = Int32Array.of(1);
    expect(() => compileTreeEnsemble(ir, 'lightgbm_text')).toThrow(ModelFormatError);
    ir = make();
    ir.trees[3]!.linear!.linearConst = new Float64Array(1);
    expect(() => compileTreeEnsemble(ir, 'lightgbm_text')).toThrow(ModelFormatError);
  });
  it('a container whose linear sections point outside them is refused at load', () => {
    const good = compileTreeEnsemble(
      withLinearLeaves(randomIR(30, { ...base, library: 'lightgbm' }), 40),
      'lightgbm_text',
    );
    const damage = (section: string, value: number) => {
      const sab = new SharedArrayBuffer(good.buffer.byteLength);
      new Uint8Array(sab).set(new Uint8Array(good.buffer));
      const c = new Container(sab);
      c.i32(section)[0] = value;
      return () => new TreeModel(new Container(sab));
    };
    expect(() => new TreeModel(new Container(good.buffer))).not.toThrow();
    expect(damage('linear_feature', 6)).toThrow(ModelFormatError);
    expect(damage('linear_feature', -1)).toThrow(/feature -1/);
    expect(damage('linear_offset', -1)).toThrow(ModelFormatError);
    expect(damage('linear_count', 1 << 30)).toThrow(/outside/);
  });
});
