// XGBoost objectives: for each, the output transform (`PredTransform`), the link that turns a
// stored `base_score` into margin space (`ProbToMargin`), and the task. Taken from XGBoost's
// src/objective/*.cc (regression_loss.h, multiclass_obj.cu, hinge.cu, rank_obj, aft_obj, cox).

import type { TransformName, TreeEnsembleIR } from '../trees/tree-ir.js';

export type XgbLink = 'identity' | 'logit' | 'log';

export interface XgbObjective {
  transform: TransformName;
  link: XgbLink;
  task: TreeEnsembleIR['task'];
}

const identityReg: XgbObjective = { transform: 'identity', link: 'identity', task: 'regression' };
const expReg: XgbObjective = { transform: 'exp', link: 'log', task: 'regression' };
const rank: XgbObjective = { transform: 'identity', link: 'identity', task: 'ranking' };

// Objects created with a null prototype so a name like `__proto__` or `toString` never matches.
const TABLE: Record<string, XgbObjective> = Object.assign(
  Object.create(null) as Record<string, XgbObjective>,
  {
    'reg:squarederror': identityReg,
    'reg:linear': identityReg, // pre-1.0 alias of reg:squarederror
    'reg:squaredlogerror': identityReg, // SquaredLogError::PredTransform is the identity
    'reg:pseudohubererror': identityReg,
    'reg:absoluteerror': identityReg,
    'reg:quantileerror': identityReg,
    // LogisticRegression: PredTransform = sigmoid, ProbToMargin = -log(1/p - 1)
    'reg:logistic': { transform: 'sigmoid', link: 'logit', task: 'regression' },
    'binary:logistic': { transform: 'sigmoid', link: 'logit', task: 'binary' },
    // LogisticRaw: ProbToMargin returns base_score unchanged (regression_loss.h in 1.7 and 3.x;
    // checked against XGBoost 1.7.4's own predictions). Older 1.x inherited LogisticRegression's logit:
    // see xgboostLink.
    'binary:logitraw': { transform: 'identity', link: 'identity', task: 'binary' },
    // HingeObj: PredTransform x > 0 ? 1 : 0; default (identity) ProbToMargin
    'binary:hinge': { transform: 'hinge', link: 'identity', task: 'binary' },
    // Poisson / Gamma / Tweedie / Cox / AFT: PredTransform = exp, ProbToMargin = log
    'count:poisson': expReg,
    'reg:gamma': expReg,
    'reg:tweedie': expReg,
    'survival:cox': expReg,
    'survival:aft': expReg,
    // Softmax: ProbToMargin is the identity (3.1+ stores the per-class intercept already as margins,
    // centred log class frequencies; 1.x/2.x store a scalar, 0.5 by default, added to every class)
    'multi:softprob': { transform: 'softmax', link: 'identity', task: 'multiclass' },
    'multi:softmax': { transform: 'argmax', link: 'identity', task: 'multiclass' },
    'rank:pairwise': rank,
    'rank:ndcg': rank,
    'rank:map': rank,
  },
);

export function xgboostObjective(name: string): XgbObjective | undefined {
  return TABLE[name];
}

/**
 * The base_score link for a model saved by XGBoost `version` ([major, minor, patch]). binary:logitraw
 * models written before 1.7 came from sources where LogisticRaw inherited the logit ProbToMargin.
 */
export function xgboostLink(name: string, obj: XgbObjective, version: readonly number[]): XgbLink {
  const [major = 1, minor = 0] = version;
  if (name === 'binary:logitraw' && major === 1 && minor < 7) return 'logit';
  return obj.link;
}

/**
 * base_score (probability/output space) -> margin, computed in float32 as XGBoost does
 * (`-std::log(1.0f / base_score - 1.0f)` and `std::log(base_score)` on floats).
 */
export function baseScoreToMargin(value: number, link: XgbLink): number {
  const f = Math.fround(value);
  switch (link) {
    case 'identity':
      return f;
    case 'logit':
      return Math.fround(-Math.log(Math.fround(Math.fround(1 / f) - 1)));
    case 'log':
      return Math.fround(Math.log(f));
  }
}
