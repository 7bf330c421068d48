// scikit-learn linear estimators (LogisticRegression, LinearRegression, Ridge, Lasso, ElasticNet,
// SGDClassifier, SGDRegressor, RidgeClassifier) alone or at the end of a Pipeline of
// SimpleImputer / StandardScaler / MinMaxScaler / MaxAbsScaler, or behind a DictVectorizer /
// FeatureHasher (sparse: rows by feature name) -> the 'sklearn-linear' container and its Model.
import { UnsupportedModelError } from '../../../errors/grove-error.js';
import { Container, ContainerBuilder } from '../../container.js';
import { declaredCount, LIMITS } from '../../limits.js';
import type { Model, ModelMeta, Platform, Task } from '../../model.js';
import { arrayAttr, classesOf, featureNamesOf, listOf, numFeaturesOf } from '../estimators/attributes.js';
import { NdArray } from '../pickle/numpy-array.js';
import { asNumber, attr, describe, firstAttr, isDict, need, PyObject } from '../pickle/py-values.js';
import { denseStep } from '../pipeline/dense-steps.js';
import { backgroundMean } from './background-mean.js';
import { buildFeatureTable } from './feature-table.js';
import { LinearModel } from './linear-model.js';
import { outputWidthOf } from './linear-output.js';
import { LINEAR_KIND, type LinearDescriptor, type LinearOutput } from './linear-spec.js';

const LINEAR_CLASSIFIERS = ['LogisticRegression', 'SGDClassifier', 'RidgeClassifier'];
const LINEAR_REGRESSORS = ['LinearRegression', 'Ridge', 'Lasso', 'ElasticNet', 'SGDRegressor'];
const VECTORIZERS = ['DictVectorizer', 'FeatureHasher'];

function stepsOf(est: PyObject): PyObject[] {
  if (est.shortName !== 'Pipeline') return [est];
  return listOf(need(est, 'steps'), 'Pipeline.steps')
    .map((s) => (Array.isArray(s) ? s[1] : s))
    .filter((s) => s !== null && s !== 'passthrough')
    .map((s) => {
      if (!(s instanceof PyObject))
        throw new UnsupportedModelError(`Pipeline step ${describe(s)} is not supported`);
      return s;
    });
}

export function isLinearPipeline(est: PyObject): boolean {
  const steps = stepsOf(est);
  const final = steps[steps.length - 1];
  return !!final && [...LINEAR_CLASSIFIERS, ...LINEAR_REGRESSORS].includes(final.shortName);
}

function f64(v: unknown, what: string): Float64Array {
  if (v instanceof NdArray) return v.toFloat64();
  if (typeof v === 'number') return Float64Array.of(v);
  throw new UnsupportedModelError(`${what} is ${describe(v)}`);
}

interface FinalEstimator {
  coef: Float64Array;
  intercept: Float64Array;
  K: number;
  C: number;
  f32: boolean;
  output: LinearOutput;
  classes: (string | number)[] | null;
  task: Task;
}

function readEstimator(est: PyObject): FinalEstimator {
  const coefArr = arrayAttr(est, 'coef_');
  const coef = coefArr.toFloat64();
  const K = declaredCount(
    coefArr.shape.length === 2 ? coefArr.shape[0]! : 1,
    LIMITS.outputs,
    `${est.shortName}.coef_ rows`,
  );
  const C = coefArr.shape.length === 2 ? coefArr.shape[1]! : coefArr.size;
  const f32 = coefArr.dtype.kind === 'f' && coefArr.dtype.itemsize === 4;
  const iv = firstAttr(est, 'intercept_');
  const intercept = new Float64Array(K);
  if (iv !== undefined && iv !== null) {
    const vals = f64(iv, `${est.shortName}.intercept_`);
    for (let k = 0; k < K; k++) intercept[k] = vals.length === 1 ? vals[0]! : vals[k]!;
  }
  if (!LINEAR_CLASSIFIERS.includes(est.shortName)) {
    return { coef, intercept, K, C, f32, output: 'regression', classes: null, task: 'regression' };
  }
  const classes = classesOf(est);
  const task: Task = classes.length === 2 ? 'binary' : 'multiclass';
  let output: LinearOutput = 'label';
  if (est.shortName === 'LogisticRegression') {
    // LogisticRegression.predict_proba (1.0-1.6): OvR unless multinomial applies; multi_class is
    // 'auto' by default, 'deprecated' from 1.5 (same behaviour), absent after its removal.
    const mc = attr(est, 'multi_class');
    const solver = attr(est, 'solver');
    const auto = mc === undefined || mc === null || mc === 'auto' || mc === 'deprecated';
    const ovr = mc === 'ovr' || mc === 'warn' || (auto && (classes.length <= 2 || solver === 'liblinear'));
    output = ovr ? 'logistic_ovr' : 'logistic_multinomial';
  } else if (est.shortName === 'SGDClassifier') {
    const loss = attr(est, 'loss');
    if (loss === 'log_loss' || loss === 'log') output = 'logistic_ovr';
    else if (loss === 'modified_huber') output = 'modified_huber';
  }
  return { coef, intercept, K, C, f32, output, classes, task };
}

export function buildLinearModel(est: PyObject, platform: Platform): Model {
  const steps = stepsOf(est);
  const final = steps.pop()!;
  const fe = readEstimator(final);
  const builder = new ContainerBuilder();
  const desc: LinearDescriptor = {
    K: fe.K,
    C: fe.C,
    F: 0,
    f32: fe.f32,
    steps: [],
    vectorizer: 'none',
    separator: '=',
    hashFeatures: 0,
    alternateSign: true,
    hashInput: 'dict',
    hasColScale: false,
    output: fe.output,
    nClasses: fe.classes ? fe.classes.length : 0,
  };
  let featureNames: string[] = [];
  const first = steps[0] ?? final;
  if (VECTORIZERS.includes(first.shortName)) {
    steps.shift();
    if (first.shortName === 'DictVectorizer') {
      desc.vectorizer = 'dict';
      desc.separator = String(attr(first, 'separator') ?? '=').slice(0, LIMITS.nameLength);
      const names = vocabularyNames(first, fe.C);
      const t = buildFeatureTable(names);
      builder.add('vocab_slots', t.slots).add('vocab_pool', t.pool);
    } else {
      desc.vectorizer = 'hasher';
      desc.hashFeatures = asNumber(need(first, 'n_features'), 'FeatureHasher.n_features');
      desc.alternateSign = attr(first, 'alternate_sign') !== false;
      const it = attr(first, 'input_type');
      desc.hashInput = it === 'pair' || it === 'string' ? it : 'dict';
      if (desc.hashFeatures !== fe.C)
        throw new UnsupportedModelError(
          `FeatureHasher has ${desc.hashFeatures} features but the model ${fe.C}`,
        );
    }
    // Scalers after a vectorizer see sparse input: they only scale columns (inplace_column_scale).
    const colScale = new Float64Array(fe.C).fill(1);
    for (const s of steps) {
      const with_mean = attr(s, 'with_mean');
      const scale = attr(s, 'scale_');
      if ((s.shortName === 'StandardScaler' && with_mean === false) || s.shortName === 'MaxAbsScaler') {
        if (scale instanceof NdArray) {
          const sc = scale.toFloat64();
          for (let j = 0; j < fe.C; j++) colScale[j] = colScale[j]! * (1 / sc[j]!);
        }
      } else {
        throw new UnsupportedModelError(
          `${s.shortName} after ${first.shortName} is not supported (sparse input)`,
        );
      }
    }
    if (steps.length) {
      desc.hasColScale = true;
      builder.add('col_scale', colScale);
    }
  } else {
    desc.F = numFeaturesOf(first);
    featureNames = featureNamesOf(first, desc.F);
    steps.forEach((s, i) => {
      const step = denseStep(s);
      desc.steps.push(step.spec);
      if (step.a) builder.add(`step${i}_a`, step.a);
      if (step.b) builder.add(`step${i}_b`, step.b);
    });
    if (desc.F !== fe.C)
      throw new UnsupportedModelError(`pipeline gives ${desc.F} features to an estimator that takes ${fe.C}`);
    // For explanations only (background-mean.ts); prediction never reads it.
    const mean = backgroundMean(steps, desc.F);
    if (mean) builder.add('background_mean', mean);
  }
  builder.add('coef', fe.coef).add('intercept', fe.intercept);
  const labels = new Float64Array(Math.max(1, desc.nClasses));
  fe.classes?.forEach((c, i) => {
    labels[i] = typeof c === 'number' ? c : i;
  });
  builder.add('labels', labels);
  const classNames = fe.classes ? fe.classes.map(String) : null;
  const W = outputWidthOf(fe.output, fe.K, desc.nClasses);
  const indexNames = (n: number) => Array.from({ length: n }, (_, i) => String(i));
  const outputNames =
    fe.output === 'regression'
      ? W === 1
        ? ['prediction']
        : indexNames(W)
      : fe.output === 'label'
        ? ['prediction']
        : classNames!;
  const rawOutputNames =
    fe.K === 1 ? ['margin'] : classNames && classNames.length === fe.K ? classNames : indexNames(fe.K);
  const meta: ModelMeta = {
    platform,
    sourcePlatform: platform,
    library: 'sklearn',
    objective:
      est.shortName === 'Pipeline' ? [...stepsOf(est).map((s) => s.shortName)].join(' -> ') : final.shortName,
    task: fe.task,
    numFeatures: desc.F,
    featureNames,
    outputNames,
    rawOutputNames,
    classes: fe.classes,
    sparse: desc.vectorizer !== 'none',
    usedFeatures: desc.vectorizer !== 'none' ? [] : usedColumns(fe.coef, fe.K, fe.C),
  };
  const sab = builder.build({ kind: LINEAR_KIND, meta, linear: desc });
  return new LinearModel(new Container(sab));
}

function usedColumns(coef: Float64Array, K: number, C: number): number[] {
  const used: number[] = [];
  for (let j = 0; j < C; j++) {
    for (let k = 0; k < K; k++) {
      if (coef[k * C + j] !== 0) {
        used.push(j);
        break;
      }
    }
  }
  return used;
}

/** DictVectorizer names by column: vocabulary_ (name -> column), else feature_names_. */
function vocabularyNames(dv: PyObject, C: number): string[] {
  const names = new Array<string>(C);
  const vocab = attr(dv, 'vocabulary_');
  if (isDict(vocab)) {
    for (const [name, col] of vocab) {
      const c = asNumber(col, 'DictVectorizer.vocabulary_ column');
      if (c >= 0 && c < C) names[c] = String(name);
    }
  } else {
    listOf(need(dv, 'feature_names_'), 'DictVectorizer.feature_names_').forEach((n, i) => {
      if (i < C) names[i] = String(n);
    });
  }
  for (let c = 0; c < C; c++)
    if (names[c] === undefined) throw new UnsupportedModelError(`DictVectorizer has no name for column ${c}`);
  return names;
}
