// When contributions are not defined for a model, or cannot be exact, and how grove says so: one
// place for the checks (cheap: the container's descriptor and section names, nothing built), so a
// server can refuse a request before doing any work and the explainers refuse the same way.
import { ExplainUnavailableError } from '../../errors/grove-error.js';
import type { Container } from '../container.js';
import type { ModelMeta } from '../model.js';
import type { LinearDescriptor } from '../sklearn/linear/linear-spec.js';
import { LINEAR_KIND } from '../sklearn/linear/linear-spec.js';
import type { TreesDescriptorExtra } from '../trees/flat-layout.js';
import { TREES_KIND } from '../trees/tree-model.js';
import { XGB_LINEAR_KIND } from '../xgboost-linear/gblinear-spec.js';

export const SPARSE_REFUSAL =
  'contributions are not available for models that take rows of feature name -> value (DictVectorizer / FeatureHasher): their columns are not a fixed feature list';
export const LINEAR_TREES_REFUSAL =
  'contributions are not defined for linear trees (LightGBM linear_tree): a leaf is a linear function of the row, and path-dependent TreeSHAP would need the training data behind it, which the model file does not hold (LightGBM refuses them too)';
export const NO_COVERS_REFUSAL =
  'this model stores no node covers (XGBoost sum_hessian, LightGBM internal_count / leaf_count, scikit-learn weighted_n_node_samples), which TreeSHAP weighs branches by; serve the library’s own model file';
export const NO_BACKGROUND_REFUSAL =
  'this linear model does not record the training mean of its inputs, which contributions are measured from (coefficient x (value - mean)); fit it in a Pipeline with a StandardScaler, or a SimpleImputer(strategy="mean"), in front';

/** Why the model cannot be explained, or null when it can. */
export function refusalOf(c: Container, meta: ModelMeta): ExplainUnavailableError | null {
  if (meta.sparse) return new ExplainUnavailableError(SPARSE_REFUSAL);
  const d = c.descriptor;
  switch (d.kind) {
    case TREES_KIND: {
      const t = d as unknown as TreesDescriptorExtra;
      if (t.hasLinear) return new ExplainUnavailableError(LINEAR_TREES_REFUSAL);
      if (!t.explain?.cover || !c.has('explain_cover'))
        return new ExplainUnavailableError(NO_COVERS_REFUSAL, 'GROVE_ERR_EXPLAIN_NO_COVERS');
      return null;
    }
    case XGB_LINEAR_KIND:
      return null;
    case LINEAR_KIND: {
      const l = (d as unknown as { linear: LinearDescriptor }).linear;
      if (l.vectorizer !== 'none') return new ExplainUnavailableError(SPARSE_REFUSAL);
      if (!c.has('background_mean'))
        return new ExplainUnavailableError(NO_BACKGROUND_REFUSAL, 'GROVE_ERR_EXPLAIN_NO_BACKGROUND');
      return null;
    }
    default:
      return new ExplainUnavailableError(`contributions are not available for '${d.kind}' models`);
  }
}
