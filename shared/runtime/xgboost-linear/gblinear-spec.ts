// What an XGBoost gblinear (linear booster) model is, independent of the file it came from: the
// IR the parser (shared/runtime/formats/xgboost-gblinear.ts) produces, and the small descriptor fields of
// the 'xgboost-linear' container kind (arrays live in sections).
//
// Sections: weights (f32, (numFeatures + 1) * numGroups, XGBoost's own order: the weight of feature
// f for group g at f * numGroups + g, the bias of group g at numFeatures * numGroups + g;
// src/gbm/gblinear_model.h), base_margin (f32, numGroups: the intercept in margin space).
import type { Task } from '../model.js';
import type { TransformName } from '../trees/tree-ir.js';

export const XGB_LINEAR_KIND = 'xgboost-linear';

export interface GblinearIR {
  objective: string;
  task: Task;
  numFeatures: number;
  /** Margin columns (classes for multiclass, else 1). */
  numGroups: number;
  featureNames: string[] | null;
  /** (numFeatures + 1) * numGroups float32 values, laid out as the section above. */
  weights: Float32Array;
  /** numGroups float32 values: base_score through the objective's link (or the 3.1+ per-class intercept). */
  baseMargin: Float64Array;
  /** The objective's output transform (shared/runtime/trees/transforms.ts). */
  transform: TransformName;
  /** Class labels for binary and multiclass objectives, else null. */
  classes: number[] | null;
}

/** The kind-specific descriptor field `gblinear`. */
export interface GblinearDescriptor {
  numFeatures: number;
  numGroups: number;
  transform: TransformName;
}
