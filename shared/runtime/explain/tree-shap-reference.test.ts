// The TreeSHAP explainer against two independent references (reference-shap.test-helper.ts): the
// brute-force Shapley values of the path-dependent game on random trees (repeated features, NaN,
// zero and inconsistent covers, several margin columns, vector leaves and averaging), and
// Lundberg's classic algorithm on scikit-learn's trees, which no library explains for us.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { mulberry32, type Rng } from '../../random/seeded-rng.js';
import { FIXTURES, readCsv } from '../fixtures.test-helper.js';
import { loadModel } from '../load.js';
import { isTreeEstimator, treeEstimatorToIR } from '../sklearn/estimators/tree-estimators.js';
import { readSklearnFile } from '../sklearn/pickle/joblib.js';
import type { PyObject } from '../sklearn/pickle/py-values.js';
import { compileTreeEnsemble } from '../trees/compile.js';
import { categoricalGoesLeft, ZERO_THRESHOLD } from '../trees/reference-predict.js';
import {
  MISSING_NAN,
  MISSING_NONE,
  MISSING_ZERO,
  type TreeEnsembleIR,
  type TreeIR,
} from '../trees/tree-ir.js';
import { explainerFor } from './index.js';
import { bruteForceShap, classicTreeShap, type Decide } from './reference-shap.test-helper.js';

/** The IR's own decision rule at one node (as reference-predict.ts findLeaf applies it). */
function decider(ir: TreeEnsembleIR): Decide {
  return (tree, i, row) => {
    let v = row[tree.feature[i]!]!;
    if (ir.inputPrecision === 'f32') v = Math.fround(v);
    const dl = tree.defaultLeft[i] === 1;
    if (tree.catOffset[i]! >= 0) return categoricalGoesLeft(ir.categorical, tree, i, v, dl) ? 0 : 1;
    const mt = tree.missingType[i];
    if (Number.isNaN(v) && mt === MISSING_NONE) v = 0;
    if (Number.isNaN(v) || (mt === MISSING_ZERO && Math.abs(v) <= ZERO_THRESHOLD)) return dl ? 0 : 1;
    const t = tree.threshold[i]!;
    return (ir.compare === 'lt' ? v < t : v <= t) ? 0 : 1;
  };
}

interface Node {
  leaf: boolean;
  feature: number;
  threshold: number;
  defaultLeft: number;
  cover: number;
  values: number[];
  left?: Node;
  right?: Node;
}

/** A random tree over F features; `covers` decides how children's covers relate to the parent's. */
function randomTree(rng: Rng, F: number, depth: number, W: number, covers: 'consistent' | 'odd'): TreeIR {
  const grow = (d: number, cover: number): Node => {
    const values = Array.from({ length: W }, () => Math.round((rng() * 4 - 2) * 1000) / 1000);
    if (d === 0 || (d < depth && rng() < 0.25))
      return { leaf: true, feature: 0, threshold: 0, defaultLeft: 0, cover, values };
    const u = rng();
    let cl = cover * u;
    let cr = cover - cl;
    if (covers === 'odd') {
      // zero covers, and children that do not add up to their parent
      if (rng() < 0.15) cl = 0;
      else if (rng() < 0.3) cr = cover * rng() * 1.5;
    }
    return {
      leaf: false,
      feature: Math.floor(rng() * F),
      threshold: Math.round((rng() * 2 - 1) * 100) / 100,
      defaultLeft: rng() < 0.5 ? 1 : 0,
      cover,
      values,
      left: grow(d - 1, cl),
      right: grow(d - 1, cr),
    };
  };
  const nodes: Node[] = [];
  const order = (n: Node): void => {
    nodes.push(n);
    if (!n.leaf) {
      order(n.left!);
      order(n.right!);
    }
  };
  order(grow(depth, 100 + rng() * 100));
  const idx = new Map(nodes.map((n, i) => [n, i]));
  const N = nodes.length;
  return {
    left: Int32Array.from(nodes, (n) => (n.leaf ? -1 : idx.get(n.left!)!)),
    right: Int32Array.from(nodes, (n) => (n.leaf ? -1 : idx.get(n.right!)!)),
    feature: Int32Array.from(nodes, (n) => n.feature),
    threshold: Float64Array.from(nodes, (n) => n.threshold),
    defaultLeft: Uint8Array.from(nodes, (n) => n.defaultLeft),
    missingType: new Uint8Array(N).fill(MISSING_NAN),
    catOffset: new Int32Array(N).fill(-1),
    catWords: new Int32Array(N),
    catBits: new Uint32Array(0),
    leafValue: Float64Array.from(nodes.flatMap((n) => n.values)),
    cover: Float64Array.from(nodes, (n) => n.cover),
  };
}

function randomEnsemble(seed: number, covers: 'consistent' | 'odd', vector: boolean): TreeEnsembleIR {
  const rng = mulberry32(seed);
  const F = 2 + Math.floor(rng() * 4);
  const G = 1 + Math.floor(rng() * 3);
  const W = vector ? G : 1;
  const T = 1 + Math.floor(rng() * 6);
  const trees = Array.from({ length: T }, () => randomTree(rng, F, 1 + Math.floor(rng() * 6), W, covers));
  return {
    library: 'lightgbm',
    objective: 'test',
    task: 'regression',
    numFeatures: F,
    featureNames: null,
    compare: 'le',
    inputPrecision: 'f64',
    sumPrecision: 'f64',
    categorical: { inSetGoesLeft: true, nan: 'right', invalid: 'right' },
    numGroups: G,
    leafWidth: W,
    trees,
    treeGroup: Int32Array.from(trees, (_, t) => t % G),
    baseMargin: Float64Array.from({ length: G }, () => rng() - 0.5),
    average: vector,
    transform: 'identity',
    sigmoidScale: 1,
    classes: null,
  };
}

/** Expected contributions from a per-tree reference, in the explainer's layout. */
function referenceContributions(
  ir: TreeEnsembleIR,
  perTree: (tree: TreeIR, phi: Float64Array, k: number) => number,
): Float64Array {
  const F = ir.numFeatures;
  const G = ir.numGroups;
  const W = ir.leafWidth;
  const out = new Float64Array(G * (F + 1));
  for (let g = 0; g < G; g++) out[g * (F + 1) + F] = ir.baseMargin[g]!;
  const count = new Float64Array(G);
  ir.trees.forEach((_, t) => {
    if (W > 1) for (let k = 0; k < W; k++) count[k]! += 1;
    else count[ir.treeGroup[t]!]! += 1;
  });
  ir.trees.forEach((tree, t) => {
    for (let k = 0; k < W; k++) {
      const g = W > 1 ? k : ir.treeGroup[t]!;
      const scale = ir.average ? 1 / count[g]! : 1;
      const phi = new Float64Array(F);
      const bias = perTree(tree, phi, k);
      for (let f = 0; f < F; f++) out[g * (F + 1) + f] += phi[f]! * scale;
      out[g * (F + 1) + F] += bias * scale;
    }
  });
  return out;
}

function expectClose(got: Float64Array, want: Float64Array, tol: number, where: string): void {
  for (let i = 0; i < want.length; i++)
    if (!(Math.abs(got[i]! - want[i]!) <= tol * (1 + Math.abs(want[i]!))))
      expect.fail(`${where}, value ${i}: got ${got[i]}, want ${want[i]}`);
}

function randomRows(seed: number, F: number, n: number): Float64Array {
  const rng = mulberry32(seed);
  return Float64Array.from({ length: n * F }, () =>
    rng() < 0.1 ? Number.NaN : Math.round((rng() * 2.4 - 1.2) * 100) / 100,
  );
}

describe('TreeSHAP against the brute-force Shapley values of the path-dependent game', () => {
  for (const covers of ['consistent', 'odd'] as const) {
    for (const vector of [false, true]) {
      test(`random ensembles, ${covers} covers${vector ? ', vector leaves averaged' : ''}`, () => {
        for (let seed = 1; seed <= 40; seed++) {
          const ir = randomEnsemble(
            seed * 7 + (covers === 'odd' ? 1000 : 0) + (vector ? 5000 : 0),
            covers,
            vector,
          );
          const model = compileTreeEnsemble(ir, 'lightgbm_text');
          const e = explainerFor(model);
          const F = ir.numFeatures;
          const rows = randomRows(seed, F, 6);
          const out = new Float64Array(6 * e.width);
          e.contributions(rows, 6, out);
          const decide = decider(ir);
          for (let r = 0; r < 6; r++) {
            const row = rows.subarray(r * F, (r + 1) * F);
            const want = referenceContributions(ir, (tree, phi, k) => {
              const b = bruteForceShap(tree, row, F, decide, ir.leafWidth, k);
              phi.set(b.phi);
              return b.bias;
            });
            expectClose(out.subarray(r * e.width, (r + 1) * e.width), want, 1e-9, `seed ${seed} row ${r}`);
          }
        }
      });
    }
  }

  test('the classic algorithm agrees with brute force (so it can stand in for it below)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const ir = randomEnsemble(seed * 13, 'consistent', false);
      const decide = decider(ir);
      const row = randomRows(seed + 99, ir.numFeatures, 1);
      const brute = referenceContributions(ir, (tree, phi, k) => {
        const b = bruteForceShap(tree, row, ir.numFeatures, decide, 1, k);
        phi.set(b.phi);
        return b.bias;
      });
      const classic = referenceContributions(ir, (tree, phi, k) =>
        classicTreeShap(tree, row, phi, decide, 1, k),
      );
      expectClose(classic, brute, 1e-9, `seed ${seed}`);
    }
  });
});

describe('scikit-learn trees against the classic algorithm over their covers', () => {
  const dirs = ['sklearn', 'derived-sklearn'].flatMap((g) =>
    readdirSync(FIXTURES + g).map((n) => `${FIXTURES}${g}/${n}/`),
  );
  const fileOf = (d: string) => ['model.pkl', 'model.joblib'].map((f) => d + f).find((f) => existsSync(f));
  const trees = dirs.filter((d) => {
    const file = fileOf(d);
    return (
      file !== undefined && isTreeEstimator(readSklearnFile(new Uint8Array(readFileSync(file))) as PyObject)
    );
  });

  test('the tree fixtures are found', () => {
    expect(trees.length).toBeGreaterThanOrEqual(17);
  });

  test.each(trees.map((d) => [d.split('/').at(-2)!, d] as const))('%s', (_n, dir) => {
    const file = fileOf(dir)!;
    const bytes = new Uint8Array(readFileSync(file));
    const ir = treeEstimatorToIR(readSklearnFile(bytes) as PyObject);
    const model = loadModel(bytes, { fileName: file.split('/').at(-1)! });
    const e = explainerFor(model);
    const x = readCsv(`${dir}test.csv`, true);
    const F = ir.numFeatures;
    const decide = decider(ir);
    const rows = Math.min(3, x.rows);
    const out = new Float64Array(rows * e.width);
    e.contributions(x.data, rows, out);
    const raw = new Float64Array(rows * ir.numGroups);
    model.predict(x.data, rows, raw, true);
    for (let r = 0; r < rows; r++) {
      const row = x.data.subarray(r * F, (r + 1) * F);
      const want = referenceContributions(ir, (tree, phi, k) =>
        classicTreeShap(tree, row, phi, decide, ir.leafWidth, k),
      );
      const got = out.subarray(r * e.width, (r + 1) * e.width);
      expectClose(got, want, 1e-9, `row ${r}`);
      for (let g = 0; g < ir.numGroups; g++) {
        let s = 0;
        for (let j = 0; j <= F; j++) s += got[g * (F + 1) + j]!;
        expect(Math.abs(s - raw[r * ir.numGroups + g]!)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(s)));
      }
    }
  });
});
