// The hostile model files of test/fixtures/hostile (its README says what each attacks) and the
// GROVE_ERR_ code each must be refused with, for the decoder tests and the worker tests.
import { join } from 'node:path';
import type { GroveErrorCode } from '../../errors/grove-error.js';
import { projectRoot } from '../../runtime-path.js';

export const HOSTILE_DIR = join(projectRoot, 'test', 'fixtures', 'hostile');

export const HOSTILE_CODES: Record<string, GroveErrorCode> = {
  'grove-numtrees-expression.grove': 'GROVE_ERR_MODEL_FORMAT',
  'ubj-typed-null-200m.ubj': 'GROVE_ERR_MODEL_FORMAT',
  'ubj-typed-false-2e40.ubj': 'GROVE_ERR_MODEL_FORMAT',
  'ubj-nested-100k.ubj': 'GROVE_ERR_MODEL_FORMAT',
  'ubj-string-2g.ubj': 'GROVE_ERR_MODEL_TRUNCATED',
  'ubj-typed-f64-2e60.ubj': 'GROVE_ERR_MODEL_TRUNCATED',
  'pickle-numpy-u0-200m.pkl': 'GROVE_ERR_MODEL_FORMAT',
  // The dict loads (in linear time); it is not an estimator.
  'pickle-tuple-keys-40deep.pkl': 'GROVE_ERR_UNSUPPORTED_MODEL',
  'pickle-deep-tuple-key.pkl': 'GROVE_ERR_UNSUPPORTED_MODEL',
  'pickle-memo-flood.pkl': 'GROVE_ERR_UNSUPPORTED_MODEL',
  'pickle-long4-256k.pkl': 'GROVE_ERR_MODEL_FORMAT',
  'pickle-string-2e40.pkl': 'GROVE_ERR_MODEL_TRUNCATED',
  'pickle-os-system.pkl': 'GROVE_ERR_UNSAFE_PICKLE',
  'lgb-max-feature-idx-200m.txt': 'GROVE_ERR_MODEL_FORMAT',
  'lgb-trees-per-iteration-2e30.txt': 'GROVE_ERR_MODEL_FORMAT',
  'xgb-num-feature-2e9.json': 'GROVE_ERR_MODEL_FORMAT',
  'xgb-num-class-1m.json': 'GROVE_ERR_MODEL_FORMAT',
  'xgb-nested-100k.json': 'GROVE_ERR_MODEL_FORMAT',
  'xgb-categories-16m.json': 'GROVE_ERR_MODEL_FORMAT',
  'xgb-gblinear-empty-weights.json': 'GROVE_ERR_MODEL_FORMAT',
};

/** The repository's file name for a hostile file (its format decides the name it would have). */
export function repositoryName(file: string): string {
  const ext = file.slice(file.lastIndexOf('.') + 1);
  return { grove: 'model.grove', ubj: 'model.ubj', pkl: 'model.pkl', txt: 'model.txt', json: 'model.json' }[
    ext
  ]!;
}
