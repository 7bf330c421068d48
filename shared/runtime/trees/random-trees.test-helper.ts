// Test helper: random tree ensembles that stress every rule of the flat layout (lt/le, f32/f64
// inputs, missing types, categorical nodes, deep trees, multiclass, vector leaves, averaging),
// inputs sitting exactly on thresholds, and the check that both kernels equal the reference
// interpreter bit for bit.
import { expect } from 'vitest';
import { mulberry32 } from '../../random/seeded-rng.js';
import { Container } from '../container.js';
import { allocTree } from '../formats/tree-shape.js';
import { compileTreeEnsemble } from './compile.js';
import { nextUp32, nextUp64 } from './float-steps.js';
import { referencePredict } from './reference-predict.js';
import { MISSING_NAN, MISSING_NONE, MISSING_ZERO, type TreeEnsembleIR, type TreeIR } from './tree-ir.js';
import { TreeModel } from './tree-model.js';

export const rng = mulberry32;

export interface Opts {
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
export const GRID = [-2, -1.5, -0.1, 0, 1e-36, 0.1, 0.3, 1 / 3, 1, 2.5];

export function randomTree(r: () => number, o: Opts, f32: boolean): TreeIR {
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

export function randomIR(seed: number, o: Opts): TreeEnsembleIR {
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
export function trickyRows(seed: number, rows: number, F: number, categories = false): Float64Array {
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

export function compileAndCheck(ir: TreeEnsembleIR, seed: number, categories = false): TreeModel {
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
export function categoryRows(r: () => number, rows: number, F: number): Float64Array {
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

export const base: Opts = {
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

/**
 * Gives every tree (or, with `plainTrees`, every other tree) LightGBM linear leaves: 0 to 3 terms
 * per leaf on random features, so rows hit NaN (plain leaf value), ±0, tiny (read as 0), ±Infinity.
 */
export function withLinearLeaves(ir: TreeEnsembleIR, seed: number, plainTrees = false): TreeEnsembleIR {
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
