// What a loaded model version must pass before it serves (docs/architecture.md, Model repository):
// a probe row of zeros predicts finite numbers, and config.json's feature names, when given, name
// as many features as the model takes. A failure fails the load; what was serving keeps serving.
import { ModelFormatError } from '../../shared/errors/grove-error.js';
import type { Model } from '../../shared/runtime/model.js';
import type { ModelConfig } from './model-config.js';

/** The names requests use: config.json `features` (checked against the model), else the model's own. */
export function servedFeatureNames(config: ModelConfig, model: Model): string[] {
  const f = config.features;
  if (f === null || model.meta.sparse) return model.meta.featureNames;
  if (f.length !== model.meta.numFeatures) {
    throw new ModelFormatError(
      `config.json "features" names ${f.length} features; the model takes ${model.meta.numFeatures}`,
      'GROVE_ERR_BAD_CONFIG',
    );
  }
  return f;
}

/** The probe: a row of zeros predicts finite numbers. */
export function probe(model: Model): void {
  const m = model.meta;
  const out = new Float64Array(m.outputNames.length);
  if (m.sparse) model.predictNamed([{}], out);
  else model.predictOne(new Float64Array(m.numFeatures), out);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i]!)) {
      throw new ModelFormatError(
        `probe row predicted a non-finite value (${out[i]}) for output ${i}`,
        'GROVE_ERR_PROBE',
      );
    }
  }
}
