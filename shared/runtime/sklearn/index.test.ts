import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Container } from '../container.js';
import {
  maxRelDiff,
  readDenseRows,
  readExpected,
  readNamedRows,
  SKLEARN_FIXTURES,
} from '../fixtures.test-helper.js';
import { modelFromContainer } from '../registry.js';
import { loadSklearn } from './index.js';

const DERIVED = join(SKLEARN_FIXTURES, '../derived-sklearn');
const dirs = [
  ...readdirSync(SKLEARN_FIXTURES).map((d) => join(SKLEARN_FIXTURES, d)),
  ...readdirSync(DERIVED, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join(DERIVED, d.name)),
];

describe('loadSklearn: every fixture (and derived model), joblib and pickle, matches pred.csv and raw.csv', () => {
  for (const dir of dirs) {
    const name = dir.split('/').slice(-2).join('/');
    for (const file of ['model.joblib', 'model.pkl'] as const) {
      it(`${name}/${file}`, () => {
        const model = loadSklearn(
          readFileSync(join(dir, file)),
          file.endsWith('.pkl') ? 'sklearn_pickle' : 'sklearn_joblib',
        );
        // The same buffer rebuilt through the registry (what another thread does) answers the same.
        const again = modelFromContainer(new Container(model.buffer));
        for (const [expectedFile, raw] of [
          ['pred.csv', false],
          ['raw.csv', true],
        ] as const) {
          const expected = readExpected(dir, expectedFile);
          if (!expected) continue;
          const width = raw ? model.meta.rawOutputNames.length : model.meta.outputNames.length;
          expect(width).toBe(expected.cols);
          const rows = expected.values.length / expected.cols;
          const out = new Float64Array(rows * width);
          const out2 = new Float64Array(rows * width);
          if (model.meta.sparse) {
            const named = readNamedRows(dir);
            model.predictNamed(named, out, raw);
            again.predictNamed(named, out2, raw);
          } else {
            const { data } = readDenseRows(dir);
            model.predict(data, rows, out, raw);
            again.predict(data, rows, out2, raw);
            // predictOne agrees with batch predict
            const one = new Float64Array(width);
            model.predictOne(data.subarray(0, model.meta.numFeatures), one, raw);
            expect([...one]).toEqual([...out.subarray(0, width)]);
          }
          expect(maxRelDiff(out, expected.values)).toBeLessThan(1e-6);
          expect([...out2]).toEqual([...out]);
        }
      });
    }
  }
});

describe('loadSklearn: metadata', () => {
  it('classifiers name their classes; sparse models say so', () => {
    const lr = loadSklearn(readFileSync(join(SKLEARN_FIXTURES, 'sk-logistic/model.pkl')), 'sklearn_pickle');
    expect(lr.meta.outputNames).toEqual(['0', '1']);
    expect(lr.meta.classes).toEqual([0, 1]);
    expect(lr.meta.numFeatures).toBe(20);
    const sp = loadSklearn(
      readFileSync(join(SKLEARN_FIXTURES, 'sk-sparse-dictvectorizer-logistic/model.joblib')),
      'sklearn_joblib',
    );
    expect(sp.meta.sparse).toBe(true);
    expect(sp.meta.numFeatures).toBe(0);
    expect(() => sp.predict(new Float64Array(0), 1, new Float64Array(2))).toThrow(/named rows/);
  });
});

describe('loadSklearn: damaged files only ever give typed errors', () => {
  it('random truncations and byte flips of every fixture', () => {
    let seed = 99;
    const rand = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    for (const dir of dirs.slice(0, 8)) {
      for (const file of ['model.joblib', 'model.pkl']) {
        const bytes = readFileSync(join(dir, file));
        if (bytes.length > 400_000) continue;
        for (let trial = 0; trial < 12; trial++) {
          const damaged = Buffer.from(
            bytes.subarray(0, trial < 4 ? Math.floor(rand() * bytes.length) : bytes.length),
          );
          if (trial >= 4)
            for (let f = 0; f < 3; f++)
              damaged[Math.floor(rand() * damaged.length)] = Math.floor(rand() * 256);
          try {
            loadSklearn(damaged, 'sklearn_joblib');
          } catch (err) {
            expect((err as { code?: string }).code).toMatch(/^GROVE_ERR_/);
          }
        }
      }
    }
  });
});

describe('loadSklearn: class labels', () => {
  it('string (<U) and object (O) class labels name the output columns', () => {
    for (const [dir, file] of [
      ['sk-random-forest-string-labels', 'model.pkl'],
      ['sk-logistic-object-labels', 'model.joblib'],
    ] as const) {
      const m = loadSklearn(readFileSync(join(DERIVED, dir, file)), 'sklearn_pickle');
      expect(m.meta.classes).toEqual(['bronze', 'gold', 'silver']);
      expect(m.meta.outputNames).toEqual(['bronze', 'gold', 'silver']);
    }
  });
});
