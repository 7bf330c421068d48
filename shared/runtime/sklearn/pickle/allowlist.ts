// The globals a scikit-learn pickle may name, and what "calling" each one means here. Nothing is
// ever executed: a class becomes a PyObject holding its arguments and state, numpy's rebuild
// functions decode bytes (numpy-array.ts), and everything else (os.system, builtins.eval,
// subprocess.Popen, posix.system, getattr, ...) is refused with UnsafePickleError the moment
// GLOBAL/STACK_GLOBAL/INST names it, before any object is made.
import { fileText } from '../../../errors/file-text.js';
import { ModelFormatError, UnsafePickleError } from '../../../errors/grove-error.js';
import { DType, fromBuffer, NdArray, scalar } from './numpy-array.js';
import { asString, describe, PyGlobal, PyObject } from './py-values.js';

type Call = (g: PyGlobal, args: readonly unknown[]) => unknown;

/** Classes rebuilt as PyObject (constructor arguments + BUILD state). */
const SKLEARN_CLASSES: Record<string, string[]> = {
  'sklearn.tree._classes': [
    'DecisionTreeClassifier',
    'DecisionTreeRegressor',
    'ExtraTreeClassifier',
    'ExtraTreeRegressor',
  ],
  'sklearn.tree._tree': ['Tree'],
  'sklearn.ensemble._forest': [
    'RandomForestClassifier',
    'RandomForestRegressor',
    'ExtraTreesClassifier',
    'ExtraTreesRegressor',
  ],
  'sklearn.ensemble._gb': ['GradientBoostingClassifier', 'GradientBoostingRegressor'],
  // GradientBoosting losses before 1.3 (`loss_` objects); 1.3+ uses sklearn._loss.loss (`_loss`).
  'sklearn.ensemble._gb_losses': [
    'BinomialDeviance',
    'MultinomialDeviance',
    'ExponentialLoss',
    'LeastSquaresError',
    'LeastAbsoluteError',
    'HuberLossFunction',
    'QuantileLossFunction',
  ],
  'sklearn._loss.loss': [
    'HalfBinomialLoss',
    'HalfMultinomialLoss',
    'ExponentialLoss',
    'HalfSquaredError',
    'AbsoluteError',
    'PinballLoss',
    'HuberLoss',
    'HalfPoissonLoss',
    'HalfGammaLoss',
    'HalfTweedieLoss',
    'HalfTweedieLossIdentity',
  ],
  'sklearn._loss.link': [
    'IdentityLink',
    'LogLink',
    'LogitLink',
    'HalfLogitLink',
    'MultinomialLogit',
    'Interval',
  ],
  'sklearn.dummy': ['DummyClassifier', 'DummyRegressor'],
  'sklearn.ensemble._hist_gradient_boosting.gradient_boosting': [
    'HistGradientBoostingClassifier',
    'HistGradientBoostingRegressor',
  ],
  'sklearn.ensemble._hist_gradient_boosting.predictor': ['TreePredictor'],
  'sklearn.ensemble._hist_gradient_boosting.binning': ['_BinMapper'],
  // scikit-learn 1.0's own HGB losses (replaced by sklearn._loss in 1.1).
  'sklearn.ensemble._hist_gradient_boosting.loss': [
    'BinaryCrossEntropy',
    'CategoricalCrossEntropy',
    'LeastSquares',
    'LeastAbsoluteDeviation',
    'Poisson',
  ],
  'sklearn.linear_model._logistic': ['LogisticRegression'],
  'sklearn.linear_model._base': ['LinearRegression'],
  'sklearn.linear_model._ridge': ['Ridge', 'RidgeClassifier'],
  'sklearn.linear_model._coordinate_descent': ['Lasso', 'ElasticNet'],
  'sklearn.linear_model._stochastic_gradient': ['SGDClassifier', 'SGDRegressor'],
  'sklearn.linear_model._sgd_fast': [
    'Hinge',
    'SquaredHinge',
    'Log',
    'ModifiedHuber',
    'SquaredLoss',
    'Huber',
    'EpsilonInsensitive',
    'SquaredEpsilonInsensitive',
  ],
  'sklearn.pipeline': ['Pipeline'],
  'sklearn.preprocessing._data': ['StandardScaler', 'MinMaxScaler', 'MaxAbsScaler'],
  'sklearn.impute._base': ['SimpleImputer'],
  'sklearn.feature_extraction._dict_vectorizer': ['DictVectorizer'],
  'sklearn.feature_extraction._hash': ['FeatureHasher'],
  'joblib.numpy_pickle': ['NumpyArrayWrapper', 'NDArrayWrapper'],
  // Random generators an estimator keeps (GradientBoosting's `_rng`): kept as inert data.
  'numpy.random.mtrand': ['RandomState'],
  'numpy.random._mt19937': ['MT19937'],
  'numpy.random._pcg64': ['PCG64'],
  'numpy.random._generator': ['Generator'],
};

const makeObject: Call = (g, args) => new PyObject(g, args);

const numpyCalls: Record<string, Call> = {
  dtype: (_g, args) => {
    const spec = args[0];
    if (typeof spec === 'string') return DType.fromSpec(spec);
    if (spec instanceof PyGlobal && SCALAR_TYPES[spec.name]) return DType.fromSpec(SCALAR_TYPES[spec.name]!);
    throw new ModelFormatError(`numpy.dtype(${describe(spec)}) is not supported`);
  },
  _reconstruct: () => NdArray.placeholder(),
  _frombuffer: (_g, args) => fromBuffer(args),
  scalar: (_g, args) => scalar(args),
};

/** numpy scalar types: valid as values (e.g. DictVectorizer's `dtype=numpy.float64`). */
const SCALAR_TYPES: Record<string, string> = {
  float64: 'f8',
  float32: 'f4',
  float16: 'f2',
  int64: 'i8',
  int32: 'i4',
  int16: 'i2',
  int8: 'i1',
  uint64: 'u8',
  uint32: 'u4',
  uint16: 'u2',
  uint8: 'u1',
  bool_: 'b1',
  object_: 'O8',
  intc: 'i4',
  int_: 'i8',
  double: 'f8',
};

const CALLS = new Map<string, Call>();
for (const [mod, names] of Object.entries(SKLEARN_CLASSES))
  for (const n of names) CALLS.set(`${mod}.${n}`, makeObject);
for (const core of ['numpy.core', 'numpy._core']) {
  CALLS.set(`${core}.multiarray._reconstruct`, numpyCalls._reconstruct!);
  CALLS.set(`${core}.numeric._frombuffer`, numpyCalls._frombuffer!);
  CALLS.set(`${core}.multiarray.scalar`, numpyCalls.scalar!);
}
CALLS.set('numpy.dtype', numpyCalls.dtype!);
CALLS.set('numpy.ndarray', () => {
  throw new ModelFormatError('numpy.ndarray is only valid as an argument of _reconstruct');
});
for (const [name, spec] of Object.entries(SCALAR_TYPES)) {
  CALLS.set(`numpy.${name}`, (_g, args) => (args.length ? scalar([DType.fromSpec(spec), args[0]]) : 0));
}
// numpy's generator pickling helpers only rebuild generator state: inert here.
for (const n of ['__randomstate_ctor', '__bit_generator_ctor', '__generator_ctor']) {
  CALLS.set(`numpy.random._pickle.${n}`, makeObject);
}
CALLS.set('numpy.random.__RandomState_ctor', makeObject);
CALLS.set('copyreg._reconstructor', (_g, args) => {
  // copyreg._reconstructor(cls, object, None): protocol-2 pickles of plain classes.
  const cls = args[0];
  if (!(cls instanceof PyGlobal) || CALLS.get(cls.fullName) !== makeObject) {
    throw new UnsafePickleError(
      `copyreg._reconstructor(${cls instanceof PyGlobal ? cls.fullName : describe(cls)})`,
    );
  }
  return new PyObject(cls, []);
});
CALLS.set('collections.OrderedDict', (_g, args) => {
  const m = new Map<unknown, unknown>();
  if (Array.isArray(args[0])) for (const kv of args[0]) if (Array.isArray(kv)) m.set(kv[0], kv[1]);
  return m;
});
for (const n of ['set', 'frozenset'])
  CALLS.set(`builtins.${n}`, (_g, args) => new Set(Array.isArray(args[0]) ? args[0] : []));
CALLS.set('builtins.bytearray', (_g, args) => (args[0] instanceof Uint8Array ? args[0] : new Uint8Array(0)));
CALLS.set('builtins.object', (g) => new PyObject(g, []));
CALLS.set('_codecs.encode', (_g, args) => {
  // Python 3 bytes pickled with protocol 2: _codecs.encode(text, 'latin1').
  const enc = args[1] ?? 'utf-8';
  if (enc !== 'latin1' && enc !== 'latin-1')
    throw new ModelFormatError(`_codecs.encode with ${fileText(enc)} is not supported`);
  return new Uint8Array(Buffer.from(asString(args[0], '_codecs.encode text'), 'latin1'));
});
// Cython extension types (sklearn._loss._loss.CyHalfBinomialLoss, ...) pickle through a
// module-level `__pyx_unpickle_<Type>(type, checksum, state)`: kept as inert data.
// SGD's loss objects (sklearn.linear_model._sgd_fast, whose classes were renamed and partly moved
// to sklearn._loss._loss across 1.x) likewise: any loss class name there is inert data.
const PYX_UNPICKLE = /^sklearn\.(_loss\._loss|linear_model\._sgd_fast)\.__pyx_unpickle_[A-Za-z0-9]+$/;
const PYX_TYPE = /^sklearn\.(_loss\._loss\.Cy[A-Za-z0-9]+|linear_model\._sgd_fast\.[A-Z][A-Za-z0-9]*)$/;

/** Resolves a global named by the pickle, or throws UnsafePickleError naming it. */
export function resolveGlobal(module: string, name: string): PyGlobal {
  const full = `${module}.${name}`;
  if (CALLS.has(full) || PYX_UNPICKLE.test(full) || PYX_TYPE.test(full)) return new PyGlobal(module, name);
  throw new UnsafePickleError(full);
}

/** `callable(*args)` for REDUCE / NEWOBJ / OBJ / INST: only ever a global from resolveGlobal. */
export function callGlobal(callable: unknown, args: readonly unknown[]): unknown {
  if (!(callable instanceof PyGlobal)) {
    throw new UnsafePickleError(`a call of ${describe(callable)}`);
  }
  const call = CALLS.get(callable.fullName) ?? makeObject;
  return call(callable, args);
}

/** Whether `g` is a class rebuilt as PyObject (NEWOBJ needs a class, not a function). */
export function isAllowedClass(g: unknown): g is PyGlobal {
  return g instanceof PyGlobal && (CALLS.get(g.fullName) === makeObject || PYX_TYPE.test(g.fullName));
}
