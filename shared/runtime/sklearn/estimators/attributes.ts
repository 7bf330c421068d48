// Reading fitted attributes off unpickled estimators, across scikit-learn 1.0 to 1.6 spellings
// (e.g. `n_features_` became `n_features_in_` in 1.0-1.2; `estimator` / `base_estimator`).
import { ModelFormatError } from '../../../errors/grove-error.js';
import { declaredCount, LIMITS } from '../../limits.js';
import { NdArray } from '../pickle/numpy-array.js';
import { asNumber, describe, firstAttr, need, type PyObject } from '../pickle/py-values.js';

export function ndarray(v: unknown, what: string): NdArray {
  if (v instanceof NdArray) return v;
  throw new ModelFormatError(`${what} should be a numpy array, got ${describe(v)}`);
}

export function arrayAttr(obj: PyObject, name: string): NdArray {
  return ndarray(need(obj, name), `${obj.shortName}.${name}`);
}

/** Number of input features, whichever attribute the version stored. */
export function numFeaturesOf(obj: PyObject): number {
  const v = firstAttr(obj, 'n_features_in_', 'n_features_', '_n_features');
  if (v === undefined || v === null)
    throw new ModelFormatError(`${obj.shortName} does not say how many features it takes`);
  const what = `${obj.shortName}.n_features_in_`;
  return declaredCount(asNumber(v, what), LIMITS.features, what);
}

/** Feature names seen in fit (pandas columns), or f0..fN-1. */
export function featureNamesOf(obj: PyObject, n: number): string[] {
  const v = firstAttr(obj, 'feature_names_in_');
  if (v instanceof NdArray) {
    if (v.size === n) return v.toList().map((x) => String(x).slice(0, LIMITS.nameLength));
  }
  return Array.from({ length: n }, (_, i) => `f${i}`);
}

/** `classes_` as labels (numbers stay numbers, strings stay strings). */
export function classesOf(obj: PyObject): (string | number)[] {
  const v = need(obj, 'classes_');
  const n = v instanceof NdArray ? v.size : Array.isArray(v) ? v.length : 0;
  if (n > LIMITS.outputs)
    throw new ModelFormatError(`${obj.shortName} has ${n} classes; grove's limit is ${LIMITS.outputs}`);
  const list = v instanceof NdArray ? v.toList() : Array.isArray(v) ? v : null;
  if (!list) throw new ModelFormatError(`${obj.shortName}.classes_ is ${describe(v)}`);
  return list.map((c) =>
    typeof c === 'number'
      ? c
      : typeof c === 'string'
        ? c.slice(0, LIMITS.nameLength)
        : typeof c === 'bigint'
          ? Number(c)
          : String(c).slice(0, LIMITS.nameLength),
  );
}

/** Output column names for class probabilities: the labels as text. */
export const classColumns = (classes: (string | number)[]) => classes.map((c) => String(c));

/** A list-like attribute (Python list/tuple or object ndarray) as a JS array. */
export function listOf(v: unknown, what: string): unknown[] {
  if (Array.isArray(v)) return v;
  if (v instanceof NdArray && v.objects) return [...v.objects];
  throw new ModelFormatError(`${what} should be a list, got ${describe(v)}`);
}
