// XGBoost gblinear (linear booster) models, saved as JSON or UBJSON by XGBoost 1.x to 3.x
// (`learner.gradient_booster = {"name": "gblinear", "model": {"weights": [...]}}`), turned into the
// gblinear IR (shared/runtime/xgboost-linear/gblinear-spec.ts). The learner fields (objective, groups,
// base_score as margins, feature names) are read exactly as for tree models (xgboost-learner.ts).
//
// `weights` holds (num_feature + 1) * num_output_group float32 values (src/gbm/gblinear_model.h):
// feature f of group g at f * ngroup + g, the bias of group g at num_feature * ngroup + g. A model
// saved before any boosting round writes `weights: []`, which XGBoost reads as all zeros
// (GBLinearModel::LazyInitModel); any other length is refused (XGBoost would read out of bounds).

import { fileText } from '../../errors/file-text.js';
import { ModelFormatError } from '../../errors/grove-error.js';
import type { GblinearIR } from '../xgboost-linear/gblinear-spec.js';
import { isObj, learnerBaseMargin, numList, objField, readLearner } from './xgboost-learner.js';

/** Weights grove agrees to allocate for a model that stores none (num_feature is only a number). */
const MAX_WEIGHTS = 1 << 22;

/** True when a decoded XGBoost document holds a gblinear booster (loadModel's choice of parser). */
export function isGblinearDocument(doc: unknown): boolean {
  if (!isObj(doc) || !isObj(doc.learner)) return false;
  const gb = doc.learner.gradient_booster;
  return isObj(gb) && gb.name === 'gblinear';
}

export function parseXgboostLinear(doc: unknown): GblinearIR {
  const h = readLearner(doc);
  if (h.boosterName !== 'gblinear') {
    throw new ModelFormatError(`XGBoost model: the booster is ${fileText(h.boosterName)}, not gblinear`);
  }
  const { numFeatures: F, numGroups: G } = h;
  const model = objField(h.booster, 'model', 'gradient_booster');
  const stored = numList(model, 'weights', 'gradient_booster.model');
  const n = (F + 1) * G;
  if (stored.length !== n && !(stored.length === 0 && n <= MAX_WEIGHTS)) {
    throw new ModelFormatError(
      `XGBoost gblinear model: weights has ${stored.length} values; (num_feature + 1) * groups = ` +
        `(${F} + 1) * ${G} = ${n} expected`,
    );
  }
  const weights = new Float32Array(n);
  weights.set(stored); // float32 in the file: exact
  return {
    objective: h.objName,
    task: h.obj.task,
    numFeatures: F,
    numGroups: G,
    featureNames: h.featureNames,
    weights,
    baseMargin: learnerBaseMargin(h),
    transform: h.obj.transform,
    classes: h.classes,
  };
}
