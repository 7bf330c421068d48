import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { maxRelDiff, readDenseRows, readExpected, SKLEARN_FIXTURES } from '../../fixtures.test-helper.js';
import { referencePredict } from '../../trees/reference-predict.js';
import { readSklearnFile } from '../pickle/joblib.js';
import type { PyObject } from '../pickle/py-values.js';
import { treeEstimatorToIR } from './tree-estimators.js';

const TREE_FIXTURES = [
  'sk-decision-tree-reg',
  'sk-gbdt-binary',
  'sk-gbdt-multiclass',
  'sk-hist-gbdt',
  'sk-random-forest',
];

describe('tree estimators -> TreeEnsembleIR (reference interpreter)', () => {
  for (const name of TREE_FIXTURES) {
    for (const file of ['model.joblib', 'model.pkl']) {
      it(`${name}/${file} matches pred.csv and raw.csv`, () => {
        const dir = join(SKLEARN_FIXTURES, name);
        const est = readSklearnFile(readFileSync(join(dir, file))) as PyObject;
        const ir = treeEstimatorToIR(est);
        const { rows, data } = readDenseRows(dir);
        const pred = readExpected(dir, 'pred.csv')!;
        expect(maxRelDiff(referencePredict(ir, data, rows, false), pred.values)).toBeLessThan(1e-6);
        const raw = readExpected(dir, 'raw.csv');
        if (raw) expect(maxRelDiff(referencePredict(ir, data, rows, true), raw.values)).toBeLessThan(1e-6);
      });
    }
  }
});
