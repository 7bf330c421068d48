// scikit-learn models for grove: `loadSklearn(bytes, platform)` reads a joblib or pickle file
// safely (pickle/: allowlisted classes only, nothing executed) and turns the estimator into a
// Model: tree ensembles compile into the shared flat tree layout (shared/model/trees/compile.ts),
// linear models and pipelines into the 'sklearn-linear' kind (linear/). Importing this module
// registers that kind, so modelFromBuffer works in every thread that imports it.
import { GroveError, ModelFormatError, UnsupportedModelError } from '../errors/grove-error.js';
import type { Model } from '../model/model.js';
import { compileTreeEnsemble } from '../model/trees/compile.js';
import { isTreeEstimator, treeEstimatorToIR } from './estimators/tree-estimators.js';
import { buildLinearModel, isLinearPipeline } from './linear/linear-builder.js';
import { readSklearnFile } from './pickle/joblib.js';
import { PyObject, describe } from './pickle/py-values.js';
import './linear/linear-model.js';

export type SklearnPlatform = 'sklearn_pickle' | 'sklearn_joblib';

/** Unpickles and converts a scikit-learn estimator or Pipeline into a Model. */
export function loadSklearn(bytes: Uint8Array, platform: SklearnPlatform): Model {
  try {
    const root = readSklearnFile(bytes);
    if (!(root instanceof PyObject)) throw new UnsupportedModelError(`the file holds ${describe(root)}, not a scikit-learn estimator`);
    return sklearnToModel(root, platform);
  } catch (err) {
    // A malformed file must surface as a typed model error, never as a crash of the loader.
    if (err instanceof GroveError) throw err;
    throw new ModelFormatError(`malformed scikit-learn file: ${(err as Error)?.message ?? String(err)}`);
  }
}

export function sklearnToModel(est: PyObject, platform: SklearnPlatform): Model {
  if (isTreeEstimator(est)) return compileTreeEnsemble(treeEstimatorToIR(est), platform);
  if (est.shortName === 'Pipeline') {
    const final = finalStep(est);
    if (final && isTreeEstimator(final) && pipelineSteps(est).length === 1) return sklearnToModel(final, platform);
  }
  if (isLinearPipeline(est)) return buildLinearModel(est, platform);
  throw new UnsupportedModelError(`scikit-learn ${est.className} is not supported by grove`);
}

export function pipelineSteps(p: PyObject): PyObject[] {
  const steps = p.dict.get('steps');
  if (!Array.isArray(steps)) return [];
  return steps
    .map((s) => (Array.isArray(s) ? s[1] : null))
    .filter((s): s is PyObject => s instanceof PyObject);
}

function finalStep(p: PyObject): PyObject | undefined {
  const s = pipelineSteps(p);
  return s[s.length - 1];
}
