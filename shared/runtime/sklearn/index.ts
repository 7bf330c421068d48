// scikit-learn models for grove: `loadSklearn(bytes, platform)` reads a joblib or pickle file
// safely (pickle/: allowlisted classes only, nothing executed) and turns the estimator into a
// Model: tree ensembles compile into the shared flat tree layout (shared/runtime/trees/compile.ts),
// linear models and pipelines into the 'sklearn-linear' kind (linear/). Importing this module
// registers that kind, so modelFromBuffer works in every thread that imports it.
import { fileText } from '../../errors/file-text.js';
import { GroveError, ModelFormatError, UnsupportedModelError } from '../../errors/grove-error.js';
import { Container } from '../container.js';
import type { Model } from '../model.js';
import { modelFromContainer } from '../registry.js';
import { treeEnsembleBuffer } from '../trees/compile.js';
import { featureNamesOf } from './estimators/attributes.js';
import { isTreeEstimator, treeEstimatorToIR } from './estimators/tree-estimators.js';
import { buildLinearModel, isLinearPipeline } from './linear/linear-builder.js';
import { readSklearnFile } from './pickle/joblib.js';
import { describe, PyObject } from './pickle/py-values.js';
import { denseStep } from './pipeline/dense-steps.js';
import { foldStepsIntoTrees } from './pipeline/fold-into-trees.js';
import './linear/linear-model.js';

export type SklearnPlatform = 'sklearn_pickle' | 'sklearn_joblib';

/** Unpickles and converts a scikit-learn estimator or Pipeline into a Model. */
export function loadSklearn(bytes: Uint8Array, platform: SklearnPlatform): Model {
  return modelFromContainer(new Container(loadSklearnBuffer(bytes, platform)));
}

/** Unpickles and converts a scikit-learn estimator or Pipeline into its container. */
export function loadSklearnBuffer(bytes: Uint8Array, platform: SklearnPlatform): SharedArrayBuffer {
  try {
    const root = readSklearnFile(bytes);
    if (!(root instanceof PyObject))
      throw new UnsupportedModelError(`the file holds ${describe(root)}, not a scikit-learn estimator`);
    return sklearnToBuffer(root, platform);
  } catch (err) {
    // A malformed file must surface as a typed model error, never as a crash of the loader.
    if (err instanceof GroveError) throw err;
    throw new ModelFormatError(`malformed scikit-learn file: ${fileText((err as Error)?.message ?? err)}`);
  }
}

export function sklearnToModel(est: PyObject, platform: SklearnPlatform): Model {
  return modelFromContainer(new Container(sklearnToBuffer(est, platform)));
}

function sklearnToBuffer(est: PyObject, platform: SklearnPlatform): SharedArrayBuffer {
  if (isTreeEstimator(est)) return treeEnsembleBuffer(treeEstimatorToIR(est), platform);
  if (est.shortName === 'Pipeline') {
    const steps = pipelineSteps(est);
    const final = steps.pop();
    if (final && isTreeEstimator(final)) {
      // Dense steps before trees fold exactly into the thresholds (pipeline/fold-into-trees.ts).
      const ir = treeEstimatorToIR(final);
      if (!steps.length) return treeEnsembleBuffer(ir, platform);
      const folded = foldStepsIntoTrees(ir, steps.map(denseStep));
      const first = steps[0]!;
      if (first.dict.has('feature_names_in_') || first.dict.has('n_features_in_')) {
        folded.featureNames = featureNamesOf(first, folded.numFeatures);
      }
      folded.objective = [...steps, final].map((s) => s.shortName).join(' -> ');
      return treeEnsembleBuffer(folded, platform);
    }
  }
  if (isLinearPipeline(est)) return buildLinearModel(est, platform).buffer;
  throw new UnsupportedModelError(`scikit-learn ${est.className} is not supported by grove`);
}

export function pipelineSteps(p: PyObject): PyObject[] {
  const steps = p.dict.get('steps');
  if (!Array.isArray(steps)) return [];
  return steps
    .map((s) => (Array.isArray(s) ? s[1] : null))
    .filter((s) => s !== null && s !== 'passthrough')
    .map((s) => {
      if (!(s instanceof PyObject))
        throw new UnsupportedModelError(`Pipeline step ${describe(s)} is not supported`);
      return s;
    });
}
