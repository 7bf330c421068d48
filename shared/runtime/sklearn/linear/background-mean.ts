// The training mean of what a linear pipeline's final estimator sees, where the pipeline makes it
// known: explanations measure each feature's contribution from it (shared/runtime/explain/
// linear-contributions.ts). StandardScaler(with_mean=True) keeps the mean of its input (mean_, so
// its output's mean is 0); SimpleImputer(strategy='mean') keeps the mean of the observed values,
// which its output (missing values replaced by it) shares. Every later step is affine per feature
// (clipping leaves a training mean, which lies inside the training range, unchanged), so the mean
// follows through applyStep. Other imputers and a bare estimator leave it unknown: null.
import { NdArray } from '../pickle/numpy-array.js';
import { attr, type PyObject } from '../pickle/py-values.js';
import { applyStep, denseStep } from '../pipeline/dense-steps.js';

export function backgroundMean(steps: PyObject[], F: number): Float64Array | null {
  let mean: Float64Array | null = null;
  for (const s of steps) {
    const fitted = denseStep(s);
    if (s.shortName === 'SimpleImputer') {
      mean = attr(s, 'strategy') === 'mean' && fitted.a ? fitted.a.slice(0, F) : null;
      continue;
    }
    if (s.shortName === 'StandardScaler' && attr(s, 'with_mean') !== false) {
      const m = attr(s, 'mean_');
      if (m instanceof NdArray) mean = m.toFloat64().slice(0, F);
    }
    if (mean) for (let j = 0; j < F; j++) mean[j] = applyStep(fitted, j, mean[j]!);
  }
  return mean && mean.length === F && mean.every(Number.isFinite) ? mean : null;
}
