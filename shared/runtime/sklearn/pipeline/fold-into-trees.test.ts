import { describe, expect, it } from 'vitest';
import { MISSING_NAN, type TreeEnsembleIR } from '../../trees/tree-ir.js';
import type { FittedStep } from './dense-steps.js';
import { applyStep } from './dense-steps.js';
import { foldStepsIntoTrees } from './fold-into-trees.js';

function stump(threshold: number, inputPrecision: 'f32' | 'f64'): TreeEnsembleIR {
  return {
    library: 'sklearn',
    objective: 'stump',
    task: 'regression',
    numFeatures: 1,
    featureNames: null,
    compare: 'le',
    inputPrecision,
    sumPrecision: 'f64',
    categorical: { inSetGoesLeft: true, nan: 'default', invalid: 'default' },
    numGroups: 1,
    leafWidth: 1,
    trees: [
      {
        left: Int32Array.of(1, -1, -1),
        right: Int32Array.of(2, -1, -1),
        feature: Int32Array.of(0, 0, 0),
        threshold: Float64Array.of(threshold, 0, 0),
        defaultLeft: Uint8Array.of(0, 0, 0),
        missingType: new Uint8Array(3).fill(MISSING_NAN),
        catOffset: Int32Array.of(-1, -1, -1),
        catWords: new Int32Array(3),
        catBits: new Uint32Array(0),
        leafValue: Float64Array.of(0, 1, 2),
      },
    ],
    treeGroup: Int32Array.of(0),
    baseMargin: Float64Array.of(0),
    average: false,
    transform: 'identity',
    sigmoidScale: 1,
    classes: null,
  };
}

describe('folding dense steps into tree thresholds', () => {
  let seed = 5;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };

  it('x <= x* agrees with h(x) <= t around the boundary and on random inputs', () => {
    for (let trial = 0; trial < 200; trial++) {
      const steps: FittedStep[] = [
        { spec: { type: 'impute', hasA: true, hasB: false }, a: Float64Array.of(rand() * 4 - 2), b: null },
        {
          spec: { type: 'standard', hasA: true, hasB: true },
          a: Float64Array.of(rand() * 10 - 5),
          b: Float64Array.of(0.01 + rand() * 3),
        },
        {
          spec: { type: 'minmax', hasA: true, hasB: true, clip: trial % 3 === 0 ? [0, 1] : null },
          a: Float64Array.of(0.1 + rand()),
          b: Float64Array.of(rand() - 0.5),
        },
      ];
      const precision = trial % 2 ? 'f32' : 'f64';
      const t = rand() * 4 - 2;
      const folded = foldStepsIntoTrees(stump(t, precision), steps);
      expect(folded.inputPrecision).toBe('f64');
      const xStar = folded.trees[0]!.threshold[0]!;
      const h = (x: number) => {
        let v = x;
        for (const s of steps) v = applyStep(s, 0, v);
        return precision === 'f32' ? Math.fround(v) : v;
      };
      const probes = [
        xStar,
        Math.abs(xStar) < 1e300 ? xStar * (1 + 1e-16) + 1e-300 : xStar,
        rand() * 40 - 20,
        rand() * 1e-3,
      ];
      const buf = new Float64Array(1);
      const bits = new BigInt64Array(buf.buffer);
      if (Number.isFinite(xStar)) {
        buf[0] = xStar;
        bits[0] = bits[0]! + (xStar >= 0 ? 1n : -1n); // the next double up
        probes.push(buf[0]!);
      }
      // Infinite inputs are outside the contract: scikit-learn's imputer and scalers reject them.
      for (const x of probes.filter(Number.isFinite))
        expect([trial, x, x <= xStar]).toEqual([trial, x, h(x) <= t]);
      // NaN is imputed, so it goes where the statistic goes.
      expect(folded.trees[0]!.defaultLeft[0] === 1).toBe(h(Number.NaN) <= t);
    }
  });
});
