// Dense preprocessing steps of a Pipeline (SimpleImputer, StandardScaler, MinMaxScaler,
// MaxAbsScaler) read from their fitted attributes, and their per-value formulas exactly as
// scikit-learn's transform computes them in float64:
//   SimpleImputer: NaN -> statistics_[j] (missing_values=NaN only);
//   StandardScaler: (x - mean_[j]) / scale_[j] (each part only when fitted with it);
//   MinMaxScaler: x * scale_[j] + min_[j], then clip to feature_range when clip=True;
//   MaxAbsScaler: x / scale_[j].
import { UnsupportedModelError } from '../../../errors/grove-error.js';
import { arrayAttr } from '../estimators/attributes.js';
import type { DenseStep } from '../linear/linear-spec.js';
import { NdArray } from '../pickle/numpy-array.js';
import { asNumber, attr, type PyObject } from '../pickle/py-values.js';

export const DENSE_STEPS = ['SimpleImputer', 'StandardScaler', 'MinMaxScaler', 'MaxAbsScaler'];

export interface FittedStep {
  spec: DenseStep;
  a: Float64Array | null;
  b: Float64Array | null;
}

export function denseStep(s: PyObject): FittedStep {
  const opt = (name: string) => {
    const v = attr(s, name);
    return v instanceof NdArray ? v.toFloat64() : null;
  };
  switch (s.shortName) {
    case 'SimpleImputer': {
      const mv = attr(s, 'missing_values');
      if (!(typeof mv === 'number' && Number.isNaN(mv)))
        throw new UnsupportedModelError('SimpleImputer is supported with missing_values=NaN only');
      if (attr(s, 'add_indicator') === true)
        throw new UnsupportedModelError('SimpleImputer(add_indicator=True) is not supported');
      const stats = arrayAttr(s, 'statistics_').toFloat64();
      if (stats.some(Number.isNaN) && attr(s, 'keep_empty_features') !== true) {
        throw new UnsupportedModelError(
          'SimpleImputer dropped all-missing features; this layout is not supported',
        );
      }
      return { spec: { type: 'impute', hasA: true, hasB: false }, a: stats, b: null };
    }
    case 'StandardScaler': {
      const mean = attr(s, 'with_mean') === false ? null : opt('mean_');
      const scale = attr(s, 'with_std') === false ? null : opt('scale_');
      return { spec: { type: 'standard', hasA: !!mean, hasB: !!scale }, a: mean, b: scale };
    }
    case 'MinMaxScaler': {
      const range = attr(s, 'feature_range');
      const clip =
        attr(s, 'clip') === true && Array.isArray(range)
          ? ([asNumber(range[0], 'feature_range'), asNumber(range[1], 'feature_range')] as [number, number])
          : null;
      return {
        spec: { type: 'minmax', hasA: true, hasB: true, clip },
        a: arrayAttr(s, 'scale_').toFloat64(),
        b: arrayAttr(s, 'min_').toFloat64(),
      };
    }
    case 'MaxAbsScaler':
      return {
        spec: { type: 'maxabs', hasA: true, hasB: false },
        a: arrayAttr(s, 'scale_').toFloat64(),
        b: null,
      };
    default:
      throw new UnsupportedModelError(
        `pipeline step ${s.shortName} is not supported (supported: ${DENSE_STEPS.join(', ')})`,
      );
  }
}

/** One value of feature j through one step (the same formulas as LinearModel's row loop). */
export function applyStep(step: FittedStep, j: number, x: number): number {
  const { spec, a, b } = step;
  switch (spec.type) {
    case 'impute':
      return Number.isNaN(x) ? a![j]! : x;
    case 'standard': {
      let v = x;
      if (a) v = v - a[j]!;
      if (b) v = v / b[j]!;
      return v;
    }
    case 'minmax': {
      const v = x * a![j]! + b![j]!;
      return spec.clip ? Math.min(spec.clip[1], Math.max(spec.clip[0], v)) : v;
    }
    case 'maxabs':
      return x / a![j]!;
  }
}
