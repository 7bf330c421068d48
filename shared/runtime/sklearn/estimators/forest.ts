// DecisionTree / ExtraTree and RandomForest / ExtraTrees (classifier and regressor) as a
// TreeEnsembleIR. Classifiers: each tree gives the normalised class distribution of its leaf
// (DecisionTreeClassifier.predict_proba) and forests average them (ForestClassifier.predict_proba
// sums per-tree probabilities, then divides by n_estimators); regressors average leaf values.
// A single tree is a forest of one. There is no decision_function: raw equals predict output.
import { UnsupportedModelError } from '../../../errors/grove-error.js';
import { TreeBudget } from '../../limits.js';
import type { TreeEnsembleIR, TreeIR } from '../../trees/tree-ir.js';
import { NdArray } from '../pickle/numpy-array.js';
import { asObject, need, type PyObject } from '../pickle/py-values.js';
import { classesOf, featureNamesOf, listOf, numFeaturesOf } from './attributes.js';
import { probaLeaf, readSklearnTree, treeToIR, valueLeaf } from './sklearn-tree.js';

export const SINGLE_TREES = [
  'DecisionTreeClassifier',
  'DecisionTreeRegressor',
  'ExtraTreeClassifier',
  'ExtraTreeRegressor',
];
export const FORESTS = [
  'RandomForestClassifier',
  'RandomForestRegressor',
  'ExtraTreesClassifier',
  'ExtraTreesRegressor',
];

/** Common IR fields of scikit-learn's own trees (float32 inputs, `x <= threshold`). */
export function sklearnTreeBase(
  est: PyObject,
): Pick<
  TreeEnsembleIR,
  | 'library'
  | 'objective'
  | 'numFeatures'
  | 'featureNames'
  | 'compare'
  | 'inputPrecision'
  | 'sumPrecision'
  | 'categorical'
  | 'sigmoidScale'
> {
  const numFeatures = numFeaturesOf(est);
  return {
    library: 'sklearn',
    objective: est.shortName,
    numFeatures,
    featureNames: featureNamesOf(est, numFeatures),
    compare: 'le',
    inputPrecision: 'f32',
    sumPrecision: 'f64',
    categorical: { inSetGoesLeft: true, nan: 'default', invalid: 'default' },
    sigmoidScale: 1,
  };
}

export function forestToIR(est: PyObject): TreeEnsembleIR {
  const isClassifier = est.shortName.endsWith('Classifier');
  const members = SINGLE_TREES.includes(est.shortName)
    ? [est]
    : listOf(need(est, 'estimators_'), `${est.shortName}.estimators_`).map((e) =>
        asObject(e, 'forest member'),
      );
  if (members.length === 0) throw new UnsupportedModelError(`${est.shortName} has no fitted trees`);
  let classes: (string | number)[] | null = null;
  let width: number;
  if (isClassifier) {
    const raw = need(est, 'classes_');
    if (!(raw instanceof NdArray))
      throw new UnsupportedModelError(`multi-output ${est.shortName} is not supported`);
    classes = classesOf(est);
    width = classes.length;
  } else {
    width = readSklearnTree(need(members[0]!, 'tree_')).nOutputs;
  }
  const budget = new TreeBudget();
  const trees: TreeIR[] = members.map((m) => {
    const t = readSklearnTree(need(m, 'tree_'));
    if (isClassifier && t.nOutputs !== 1)
      throw new UnsupportedModelError(`multi-output ${est.shortName} is not supported`);
    budget.take(t.nodeCount, width);
    return treeToIR(t, width, isClassifier ? probaLeaf(width) : valueLeaf);
  });
  return {
    ...sklearnTreeBase(est),
    task: isClassifier ? (width === 2 ? 'binary' : 'multiclass') : 'regression',
    numGroups: width,
    leafWidth: width,
    trees,
    treeGroup: new Int32Array(trees.length),
    baseMargin: new Float64Array(width),
    average: true,
    transform: 'identity',
    classes,
  };
}
