// A hand-written Model and LoadedVersion for unit tests of the HTTP layer: output = sum of the
// row's finite values (raw: the same plus 100), so tests can check exactly what reached the model.
import type { Model, ModelMeta } from '../../shared/runtime/model.js';
import { LoadedVersion } from '../repository/loaded-version.js';

export function fakeModel(numFeatures: number, opts: { sparse?: boolean; outputs?: number } = {}): Model {
  const k = opts.outputs ?? 1;
  const featureNames = Array.from({ length: numFeatures }, (_, i) => `f${i}`);
  const meta: ModelMeta = {
    platform: 'xgboost_json',
    sourcePlatform: 'xgboost_json',
    library: 'xgboost',
    objective: 'reg:squarederror',
    task: k === 1 ? 'regression' : 'multiclass',
    numFeatures: opts.sparse ? 0 : numFeatures,
    featureNames: opts.sparse ? [] : featureNames,
    outputNames: k === 1 ? ['prediction'] : Array.from({ length: k }, (_, i) => String(i)),
    rawOutputNames: k === 1 ? ['margin'] : Array.from({ length: k }, (_, i) => String(i)),
    classes: null,
    sparse: opts.sparse ?? false,
    usedFeatures: [],
  };
  const F = meta.numFeatures;
  const write = (sum: number, out: Float64Array, r: number, raw?: boolean) => {
    for (let j = 0; j < k; j++) out[r * k + j] = sum + j + (raw ? 100 : 0);
  };
  return {
    meta,
    buffer: new SharedArrayBuffer(8),
    predict(input, rows, out, raw) {
      for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let j = 0; j < F; j++) if (!Number.isNaN(input[r * F + j]!)) s += input[r * F + j]!;
        write(s, out, r, raw);
      }
    },
    predictOne(row, out, raw) {
      this.predict(row, 1, out, raw);
    },
    predictNamed(rows, out, raw) {
      rows.forEach((row, r) => {
        let s = 0;
        for (const v of Object.values(row)) if (typeof v === 'number' && !Number.isNaN(v)) s += v;
        write(s, out, r, raw);
      });
    },
  };
}

export function fakeVersion(
  numFeatures: number,
  opts: { sparse?: boolean; outputs?: number; features?: string[] } = {},
): LoadedVersion {
  const model = fakeModel(numFeatures, opts);
  return new LoadedVersion({
    name: 'm',
    version: '1',
    dir: '/nowhere/m/1',
    file: '/nowhere/m/1/model.json',
    sha256: 'ab'.repeat(32),
    fingerprint: '1:1:1',
    model,
    config: {},
    featureNames: opts.features ?? model.meta.featureNames,
    key: 'm/1/1',
  });
}
