// Explanations for any Model: `explainerFor(model)` picks the explainer of the model's kind (tree
// ensembles: TreeSHAP, tree-shap.ts; linear models: linear-contributions.ts), builds it once per
// model object (it precomputes per-node tables) and refuses, with a GROVE_ERR_EXPLAIN_* code and
// a message saying why, models whose contributions are not defined or cannot be exact.
// The layout of contributions is in explainer.ts; docs/explanations.md is the user's view.
import { ExplainUnavailableError } from '../../errors/grove-error.js';
import { Container } from '../container.js';
import type { Model } from '../model.js';
import { LinearModel } from '../sklearn/linear/linear-model.js';
import { TREES_KIND } from '../trees/tree-model.js';
import { XGB_LINEAR_KIND } from '../xgboost-linear/gblinear-spec.js';
import type { Explainer } from './explainer.js';
import { GblinearExplainer, SklearnLinearExplainer } from './linear-contributions.js';
import { refusalOf } from './refusals.js';
import { TreeShapExplainer } from './tree-shap.js';

export { contributionColumns, type Explainer } from './explainer.js';

const explainers = new WeakMap<Model, Explainer | ExplainUnavailableError>();

/** The model's explainer (built on first use, then cached); throws ExplainUnavailableError. */
export function explainerFor(model: Model): Explainer {
  let e = explainers.get(model);
  if (e === undefined) {
    try {
      e = build(model);
    } catch (err) {
      if (!(err instanceof ExplainUnavailableError)) throw err;
      e = err;
    }
    explainers.set(model, e);
  }
  if (e instanceof ExplainUnavailableError) throw rethrown(e);
  return e;
}

function build(model: Model): Explainer {
  const c = new Container(model.buffer);
  const refusal = refusalOf(c, model.meta);
  if (refusal) throw refusal;
  switch (c.descriptor.kind) {
    case TREES_KIND:
      return new TreeShapExplainer(model.buffer);
    case XGB_LINEAR_KIND:
      return new GblinearExplainer(c);
    default:
      if (!(model instanceof LinearModel)) throw new ExplainUnavailableError('not a linear model');
      return new SklearnLinearExplainer(c, model);
  }
}

/** Throws the model's refusal (ExplainUnavailableError) without building its explainer: cheap. */
export function assertExplainable(model: Model): void {
  const known = explainers.get(model);
  if (known instanceof ExplainUnavailableError) throw rethrown(known);
  if (known) return;
  const refusal = refusalOf(new Container(model.buffer), model.meta);
  if (refusal) throw refusal;
}

/**
 * The size of the model's explainer before building it: tree nodes (or linear weights). Building
 * costs about a microsecond per node, so a server builds big explainers off its event loop.
 */
export function explainSize(model: Model): number {
  const c = new Container(model.buffer);
  const cover = c.descriptor.sections.explain_cover;
  if (cover) return cover.length;
  return (model.meta.numFeatures + 1) * Math.max(1, model.meta.rawOutputNames.length);
}

function rethrown(e: ExplainUnavailableError): ExplainUnavailableError {
  return new ExplainUnavailableError(
    e.message,
    e.code as ConstructorParameters<typeof ExplainUnavailableError>[1],
  );
}

/** Whether contributions can be computed for the model (without throwing). */
export function canExplain(model: Model): boolean {
  try {
    explainerFor(model);
    return true;
  } catch (err) {
    if (err instanceof ExplainUnavailableError) return false;
    throw err;
  }
}
