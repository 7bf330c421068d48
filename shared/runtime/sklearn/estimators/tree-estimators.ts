// Which scikit-learn estimators are tree ensembles, and their TreeEnsembleIR.
import type { TreeEnsembleIR } from '../../trees/tree-ir.js';
import type { PyObject } from '../pickle/py-values.js';
import { FORESTS, forestToIR, SINGLE_TREES } from './forest.js';
import { GRADIENT_BOOSTING, gradientBoostingToIR } from './gradient-boosting.js';
import { HIST_GRADIENT_BOOSTING, histGradientBoostingToIR } from './hist-gradient-boosting.js';

export function isTreeEstimator(est: PyObject): boolean {
  const n = est.shortName;
  return (
    SINGLE_TREES.includes(n) ||
    FORESTS.includes(n) ||
    GRADIENT_BOOSTING.includes(n) ||
    HIST_GRADIENT_BOOSTING.includes(n)
  );
}

export function treeEstimatorToIR(est: PyObject): TreeEnsembleIR {
  const n = est.shortName;
  if (GRADIENT_BOOSTING.includes(n)) return gradientBoostingToIR(est);
  if (HIST_GRADIENT_BOOSTING.includes(n)) return histGradientBoostingToIR(est);
  return forestToIR(est);
}
