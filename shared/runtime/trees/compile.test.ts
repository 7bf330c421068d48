// The compiled flat layout and its kernels against the reference interpreter, on random ensembles
// that stress every rule (lt/le, f32/f64 inputs, missing types, categorical nodes, deep trees,
// multiclass, vector leaves, averaging) and on inputs sitting exactly on thresholds.
import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../errors/grove-error.js';
import { Container } from '../container.js';
import { allocTree } from '../formats/tree-shape.js';
import { compileTreeEnsemble } from './compile.js';
import { MAX_HEAP_DEPTH, TREE_CATEGORICAL, TREE_GENERIC, TREE_HEAP } from './flat-layout.js';
import { nextUp32, nextUp64 } from './float-steps.js';
import { referencePredict } from './reference-predict.js';
import { MISSING_NAN, MISSING_NONE, MISSING_ZERO, type TreeEnsembleIR, type TreeIR } from './tree-ir.js';
import { TreeModel } from './tree-model.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Opts {
  library: 'xgboost' | 'lightgbm' | 'sklearn';
  trees: number;
  depth: number;
  /** probability that a node below the root becomes a leaf early */
  early: number;
  features: number;
  groups: number;
  leafWidth: number;
  catProb: number;
  /** bitset words of categorical nodes (default 2, over categories 0..39) */
  catWords?: number;
  average: boolean;
}

/** Thresholds drawn from a small grid so test inputs can hit them exactly. */
const GRID = [-2, -1.5, -0.1, 0, 1e-36, 0.1, 0.3, 1 / 3, 1, 2.5];

function randomTree(r: () => number, o: Opts, f32: boolean): TreeIR {
  const left: number[] = [];
  const right: number[] = [];
  const nodes: Array<{ f: number; t: number; dl: number; mt: number; cat: number[] | null }> = [];
  const leafVals: number[][] = [];
  const grow = (level: number): number => {
    const id = nodes.length;
    nodes.push({ f: 0, t: 0, dl: 0, mt: MISSING_NAN, cat: null });
    left.push(-1);
    right.push(-1);
    leafVals.push([]);
    if (level >= o.depth || (level > 0 && r() < o.early)) {
      leafVals[id] = Array.from({ length: o.leafWidth }, () => {
        const v = (r() - 0.5) * 2;
        return f32 ? Math.fround(v) : v;
      });
      return id;
    }
    const n = nodes[id]!;
    n.f = Math.floor(r() * o.features);
    const t = GRID[Math.floor(r() * GRID.length)]!;
    n.t = f32 && o.library === 'xgboost' ? Math.fround(t) : t;
    n.dl = r() < 0.5 ? 1 : 0;
    n.mt =
      o.library === 'lightgbm'
        ? [MISSING_NAN, MISSING_ZERO, MISSING_NONE][Math.floor(r() * 3)]!
        : MISSING_NAN;
    const catMax = o.catWords ? 32 * o.catWords : 40;
    if (r() < o.catProb) n.cat = Array.from({ length: catMax }, (_, c) => c).filter(() => r() < 0.4);
    const l = grow(level + 1);
    const rr = grow(level + 1);
    left[id] = l;
    right[id] = rr;
    return id;
  };
  grow(0);
  const tree = allocTree(nodes.length, o.leafWidth);
  const bits: number[] = [];
  nodes.forEach((n, i) => {
    tree.left[i] = left[i]!;
    tree.right[i] = right[i]!;
    tree.feature[i] = n.f;
    tree.threshold[i] = n.t;
    tree.defaultLeft[i] = n.dl;
    tree.missingType[i] = n.mt;
    if (n.cat) {
      const words = o.catWords ?? 2;
      tree.catOffset[i] = bits.length;
      tree.catWords[i] = words;
      const w = new Array<number>(words).fill(0);
      for (const c of n.cat) w[c >>> 5] = (w[c >>> 5]! | (1 << (c & 31))) >>> 0;
      bits.push(...w);
    }
    leafVals[i]!.forEach((v, k) => {
      tree.leafValue[i * o.leafWidth + k] = v;
    });
  });
  tree.catBits = Uint32Array.from(bits);
  return tree;
}

function randomIR(seed: number, o: Opts): TreeEnsembleIR {
  const r = rng(seed);
  const xgb = o.library === 'xgboost';
  const f32In = o.library !== 'lightgbm';
  const trees = Array.from({ length: o.trees }, () => randomTree(r, o, xgb));
  return {
    library: o.library,
    objective: 'test',
    task: o.groups > 1 ? 'multiclass' : 'regression',
    numFeatures: o.features,
    featureNames: null,
    compare: xgb ? 'lt' : 'le',
    inputPrecision: f32In ? 'f32' : 'f64',
    sumPrecision: xgb ? 'f32' : 'f64',
    categorical: xgb
      ? { inSetGoesLeft: false, nan: 'default', invalid: 'left', negative: 'value' }
      : { inSetGoesLeft: true, nan: 'right', invalid: 'right', negative: 'truncated' },
    numGroups: o.groups,
    leafWidth: o.leafWidth,
    trees,
    treeGroup: Int32Array.from(trees, (_, t) => (o.leafWidth > 1 ? 0 : t % o.groups)),
    baseMargin: Float64Array.from({ length: o.groups }, (_, g) =>
      xgb ? Math.fround(0.25 * g - 0.1) : 0.25 * g - 0.1,
    ),
    average: o.average,
    transform: o.groups > 1 ? 'softmax' : 'sigmoid',
    sigmoidScale: 1,
    classes: null,
  };
}

/** Inputs on, just below and just above grid thresholds, plus NaN, ±Inf, ±0, tiny and categories. */
function trickyRows(seed: number, rows: number, F: number, categories = false): Float64Array {
  const r = rng(seed);
  if (categories) return categoryRows(r, rows, F);
  const specials = [Number.NaN, Infinity, -Infinity, 0, -0, 1e-36, -1e-36, 5e-324, 3, 7.9, 39, 45, 1e9, -0.5];
  const x = new Float64Array(rows * F);
  for (let i = 0; i < x.length; i++) {
    const u = r();
    const t = GRID[Math.floor(r() * GRID.length)]!;
    if (u < 0.25) x[i] = t;
    else if (u < 0.35) x[i] = nextUp64(t);
    else if (u < 0.45) x[i] = -nextUp64(-t);
    else if (u < 0.5) x[i] = nextUp32(Math.fround(t));
    else if (u < 0.7) x[i] = specials[Math.floor(r() * specials.length)]!;
    else x[i] = (r() - 0.5) * 6;
  }
  return x;
}

function compileAndCheck(ir: TreeEnsembleIR, seed: number, categories = false): TreeModel {
  const compiled = compileTreeEnsemble(ir, 'xgboost_json') as TreeModel;
  const rows = 203; // not a multiple of the interleave: the remainder path runs too
  const F = ir.numFeatures;
  const x = trickyRows(seed, rows, F, categories);
  // Both kernels over the same buffer (the WebAssembly one covers all but linear leaves).
  for (const kernel of ['js', 'wasm'] as const) {
    const model = new TreeModel(new Container(compiled.buffer), undefined, kernel);
    const jsOnly = model.layout.hasLinear === true;
    expect(model.kernel).toBe(kernel === 'wasm' && jsOnly ? 'js' : kernel);
    for (const raw of [true, false]) {
      const want = referencePredict(ir, x, rows, raw);
      const W = want.length / rows;
      const got = new Float64Array(rows * W);
      model.predict(x, rows, got, raw);
      expect(Array.from(got)).toEqual(Array.from(want));
      const one = new Float64Array(W);
      for (let i = 0; i < rows; i++) {
        model.predictOne(x.subarray(i * F, i * F + F), one, raw);
        expect(Array.from(one)).toEqual(Array.from(want.subarray(i * W, i * W + W)));
      }
    }
  }
  return compiled;
}

/**
 * Inputs for categorical nodes: categories inside and beyond 1-3 word bitsets, fractional,
 * negative (-0.5 is category 0 by LightGBM's truncation, invalid by XGBoost's x < 0), ±0, NaN,
 * ±Inf, huge values around 2^31 and 2^32, plus grid values for the numeric nodes.
 */
function categoryRows(r: () => number, rows: number, F: number): Float64Array {
  const specials = [
    Number.NaN,
    Infinity,
    -Infinity,
    0,
    -0,
    -0.5,
    -0.999,
    -1,
    -1.5,
    -7,
    0.5,
    31,
    31.9,
    32,
    63,
    64,
    95,
    96,
    1e9,
    2 ** 31 - 1,
    2 ** 31,
    2 ** 31 + 0.5,
    2 ** 32,
    2 ** 32 + 3,
    1e300,
    -(2 ** 31),
    5e-324,
  ];
  const x = new Float64Array(rows * F);
  for (let i = 0; i < x.length; i++) {
    const u = r();
    if (u < 0.45) x[i] = Math.floor(r() * 100);
    else if (u < 0.55) x[i] = Math.floor(r() * 100) + r();
    else if (u < 0.85) x[i] = specials[Math.floor(r() * specials.length)]!;
    else x[i] = GRID[Math.floor(r() * GRID.length)]!;
  }
  return x;
}

const base: Opts = {
  library: 'xgboost',
  trees: 23,
  depth: 5,
  early: 0.2,
  features: 6,
  groups: 1,
  leafWidth: 1,
  catProb: 0,
  average: false,
};

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

/**
 * Gives every tree (or, with `plainTrees`, every other tree) LightGBM linear leaves: 0 to 3 terms
 * per leaf on random features, so rows hit NaN (plain leaf value), ±0, tiny (read as 0), ±Infinity.
 */
function withLinearLeaves(ir: TreeEnsembleIR, seed: number, plainTrees = false): TreeEnsembleIR {
  const r = rng(seed);
  ir.trees.forEach((tree, t) => {
    if (plainTrees && t % 2 === 1) return;
    const n = tree.left.length;
    const lin = {
      linearConst: new Float64Array(n),
      linearOffset: new Int32Array(n),
      linearCount: new Int32Array(n),
      linearFeature: new Int32Array(0),
      linearCoeff: new Float64Array(0),
    };
    const feats: number[] = [];
    const coeffs: number[] = [];
    for (let i = 0; i < n; i++) {
      if (tree.left[i]! >= 0) continue;
      lin.linearConst[i] = (r() - 0.5) * 0.4;
      lin.linearOffset[i] = feats.length;
      const count = Math.floor(r() * 4);
      lin.linearCount[i] = count;
      for (let k = 0; k < count; k++) {
        feats.push(Math.floor(r() * ir.numFeatures));
        coeffs.push((r() - 0.5) * 0.3);
      }
    }
    lin.linearFeature = Int32Array.from(feats);
    lin.linearCoeff = Float64Array.from(coeffs);
    tree.linear = lin;
  });
  return ir;
}

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
  it('rejects a base margin of the wrong width', () => {
    const ir = randomIR(10, base);
    ir.baseMargin = new Float64Array(2);
    expect(() => compileTreeEnsemble(ir, 'xgboost_json')).toThrow(/base margin/);
  });
});
