// GradientBoostingClassifier / GradientBoostingRegressor as a TreeEnsembleIR.
// decision_function (sklearn/ensemble/_gb.py `_raw_predict`): the init estimator's raw prediction,
// then `predict_stages` adds `learning_rate * value` of estimators_[stage, k] for every stage.
// The init raw prediction, per loss:
// - scikit-learn < 1.3 (`loss_` / `_loss` from sklearn.ensemble._gb_losses): BinomialDeviance
//   log(p / (1 - p)), ExponentialLoss 0.5 * log(p / (1 - p)), MultinomialDeviance log(p_k), with p
//   the DummyClassifier priors clipped to [eps, 1 - eps] (eps = float32 eps); regressors the
//   DummyRegressor constant;
// - scikit-learn >= 1.3 (`_loss` from sklearn._loss.loss): link(p): logit for HalfBinomialLoss,
//   the symmetric multinomial logit log(p_k) - mean(log p) for HalfMultinomialLoss, identity for
//   regression losses;
// - init='zero': 0.
// Probabilities: sigmoid [1 - p, p] (binary), exp(2 * raw) sigmoid for the exponential loss,
// softmax (multiclass). Regressors predict the raw value.
import { fileText } from '../../../errors/file-text.js';
import { ModelFormatError, UnsupportedModelError } from '../../../errors/grove-error.js';
import { LIMITS, TreeBudget } from '../../limits.js';
import type { TransformName, TreeEnsembleIR, TreeIR } from '../../trees/tree-ir.js';
import { NdArray } from '../pickle/numpy-array.js';
import { asNumber, asObject, attr, describe, firstAttr, need, type PyObject } from '../pickle/py-values.js';
import { arrayAttr, classesOf } from './attributes.js';
import { sklearnTreeBase } from './forest.js';
import { readSklearnTree, scaledLeaf, treeToIR } from './sklearn-tree.js';

const FLOAT32_EPS = 2 ** -23;

export const GRADIENT_BOOSTING = ['GradientBoostingClassifier', 'GradientBoostingRegressor'];

function lossName(est: PyObject): { name: string; modern: boolean } {
  const loss = firstAttr(est, '_loss', 'loss_');
  if (loss && typeof loss === 'object' && 'shortName' in loss) {
    const cls = (loss as PyObject).className;
    return { name: (loss as PyObject).shortName, modern: cls.startsWith('sklearn._loss.') };
  }
  // Some versions keep only the string parameter.
  const p = attr(est, 'loss');
  return { name: typeof p === 'string' ? p : 'unknown', modern: true };
}

/** Raw init prediction (margin space), one value per column. */
function initRaw(
  est: PyObject,
  isClassifier: boolean,
  K: number,
  loss: { name: string; modern: boolean },
): Float64Array {
  const init = attr(est, 'init_');
  const out = new Float64Array(K);
  if (init === 'zero' || attr(est, 'init') === 'zero') return out;
  const initObj = asObject(init, 'GradientBoosting init_');
  if (isClassifier) {
    if (initObj.shortName !== 'DummyClassifier')
      throw new UnsupportedModelError(
        `GradientBoosting init estimator ${initObj.shortName} is not supported`,
      );
    const strategy = firstAttr(initObj, '_strategy', 'strategy');
    if (strategy !== 'prior' && strategy !== 'stratified' && strategy !== 'uniform') {
      // 'most_frequent' also predicts class_prior_ probabilities in predict_proba.
      if (strategy !== 'most_frequent')
        throw new UnsupportedModelError(
          `DummyClassifier strategy ${fileText(strategy)} is not supported as init`,
        );
    }
    const prior = arrayAttr(initObj, 'class_prior_').toFloat64();
    const clip = (p: number) => Math.min(Math.max(p, FLOAT32_EPS), 1 - FLOAT32_EPS);
    const probs =
      strategy === 'uniform' ? Array.from({ length: prior.length }, () => 1 / prior.length) : [...prior];
    if (strategy === 'most_frequent') {
      // DummyClassifier.predict_proba for most_frequent: one-hot on the most frequent class.
      const best = probs.indexOf(Math.max(...probs));
      probs.fill(0);
      probs[best] = 1;
    }
    if (K === 1) {
      const p = clip(probs[1] ?? 0);
      const logit = Math.log(p / (1 - p));
      out[0] = loss.name === 'ExponentialLoss' ? 0.5 * logit : logit;
    } else {
      for (let k = 0; k < K; k++) out[k] = Math.log(clip(probs[k] ?? 0));
      if (loss.modern) {
        let mean = 0;
        for (let k = 0; k < K; k++) mean += out[k]!;
        mean /= K;
        for (let k = 0; k < K; k++) out[k] = out[k]! - mean;
      }
    }
    return out;
  }
  if (initObj.shortName !== 'DummyRegressor')
    throw new UnsupportedModelError(`GradientBoosting init estimator ${initObj.shortName} is not supported`);
  const c = need(initObj, 'constant_');
  const v = c instanceof NdArray ? c.toFloat64()[0]! : asNumber(c, 'DummyRegressor.constant_');
  out.fill(v);
  return out;
}

export function gradientBoostingToIR(est: PyObject): TreeEnsembleIR {
  const isClassifier = est.shortName === 'GradientBoostingClassifier';
  const estimators = arrayAttr(est, 'estimators_');
  if (!estimators.objects || estimators.shape.length !== 2)
    throw new ModelFormatError(`GradientBoosting estimators_ is ${describe(estimators)}`);
  const [stages, K] = estimators.shape as [number, number];
  if (K < 1 || K > LIMITS.outputs)
    throw new ModelFormatError(
      `GradientBoosting has ${K} trees per stage; grove's limit is ${LIMITS.outputs}`,
    );
  const budget = new TreeBudget();
  const lr = asNumber(need(est, 'learning_rate'), 'learning_rate');
  const loss = lossName(est);
  if (
    !isClassifier &&
    ![
      'LeastSquaresError',
      'LeastAbsoluteError',
      'HuberLossFunction',
      'QuantileLossFunction',
      'HalfSquaredError',
      'AbsoluteError',
      'HuberLoss',
      'PinballLoss',
      'squared_error',
      'absolute_error',
      'huber',
      'quantile',
      'ls',
      'lad',
    ].includes(loss.name)
  ) {
    throw new UnsupportedModelError(`GradientBoostingRegressor loss ${fileText(loss.name)} is not supported`);
  }
  const trees: TreeIR[] = [];
  const treeGroup: number[] = [];
  for (let s = 0; s < stages; s++) {
    for (let k = 0; k < K; k++) {
      const member = asObject(estimators.objects[s * K + k], 'GradientBoosting stage tree');
      const tree = readSklearnTree(need(member, 'tree_'));
      budget.take(tree.nodeCount, 1);
      trees.push(treeToIR(tree, 1, scaledLeaf(lr)));
      treeGroup.push(k);
    }
  }
  let classes: (string | number)[] | null = null;
  let transform: TransformName = 'identity';
  let sigmoidScale = 1;
  if (isClassifier) {
    classes = classesOf(est);
    if (K === 1) {
      transform = 'sigmoid_pair';
      if (loss.name === 'ExponentialLoss' || loss.name === 'exponential') sigmoidScale = 2;
    } else {
      transform = 'softmax';
    }
  }
  return {
    ...sklearnTreeBase(est),
    task: isClassifier ? (K === 1 ? 'binary' : 'multiclass') : 'regression',
    numGroups: K,
    leafWidth: 1,
    trees,
    treeGroup: Int32Array.from(treeGroup),
    baseMargin: initRaw(est, isClassifier, K, loss),
    average: false,
    transform,
    sigmoidScale,
    classes,
  };
}
