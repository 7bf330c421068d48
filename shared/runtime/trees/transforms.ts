// Output transforms: one margin row (numGroups values) -> one output row, with the formulas the
// libraries use (XGBoost src/common/math.h Sigmoid/Softmax/FindMaxIndex, hinge.cu; LightGBM
// binary_objective.hpp, multiclass_objective.hpp Softmax, regression_objective.hpp, xentropy).
// Written for the hot path: no allocation, plain loops over typed arrays. Doubles throughout:
// XGBoost computes these in float32, which moves results by at most a few 1e-8 (below the 1e-6
// contract); LightGBM and scikit-learn compute in double.

import type { TransformName } from './tree-ir.js';

/** Output columns a transform produces from numGroups margin columns. */
export function outputWidth(name: TransformName, numGroups: number): number {
  switch (name) {
    case 'sigmoid_pair':
      return 2;
    case 'argmax':
      return 1;
    default:
      return numGroups;
  }
}

/**
 * Column names of `predict` and of raw margins for a model with this transform (every model kind
 * built on these transforms names them alike): class labels where the file has as many, else
 * indices; one column is 'prediction' (raw: 'margin').
 */
export function outputColumnNames(
  name: TransformName,
  numGroups: number,
  classes: readonly (string | number)[] | null,
): { out: string[]; raw: string[] } {
  const classNames = (n: number) =>
    classes && classes.length === n ? classes.map(String) : Array.from({ length: n }, (_, i) => String(i));
  const raw = numGroups === 1 ? ['margin'] : classNames(numGroups);
  const width = outputWidth(name, numGroups);
  let out: string[];
  if (name === 'sigmoid_pair') out = classNames(2);
  else if (width === 1) out = ['prediction'];
  else out = classNames(width);
  return { out, raw };
}

/** The file's feature names when it has one per feature, else f0..f{F-1}. */
export function featureNamesOr(names: readonly string[] | null | undefined, F: number): string[] {
  return names && names.length === F ? [...names] : Array.from({ length: F }, (_, i) => `f${i}`);
}

/**
 * Reads margins[mOff .. mOff+numGroups) and writes outputWidth(name, numGroups) values to out[oOff..).
 * `margins` and `out` may be the same array at the same offset except for 'sigmoid_pair'.
 */
export function applyTransform(
  name: TransformName,
  scale: number,
  margins: Float64Array,
  mOff: number,
  numGroups: number,
  out: Float64Array,
  oOff: number,
): void {
  switch (name) {
    case 'identity':
      for (let k = 0; k < numGroups; k++) out[oOff + k] = margins[mOff + k] as number;
      return;
    case 'sigmoid':
    case 'ova_sigmoid':
      for (let k = 0; k < numGroups; k++)
        out[oOff + k] = 1 / (1 + Math.exp(-scale * (margins[mOff + k] as number)));
      return;
    case 'sigmoid_pair': {
      const p = 1 / (1 + Math.exp(-scale * (margins[mOff] as number)));
      out[oOff] = 1 - p;
      out[oOff + 1] = p;
      return;
    }
    case 'softmax': {
      // max-shifted, as every library does it, so large margins never overflow
      let max = margins[mOff] as number;
      for (let k = 1; k < numGroups; k++) {
        const v = margins[mOff + k] as number;
        if (v > max) max = v;
      }
      let sum = 0;
      for (let k = 0; k < numGroups; k++) {
        const e = Math.exp((margins[mOff + k] as number) - max);
        out[oOff + k] = e;
        sum += e;
      }
      for (let k = 0; k < numGroups; k++) out[oOff + k] = (out[oOff + k] as number) / sum;
      return;
    }
    case 'exp':
      for (let k = 0; k < numGroups; k++) out[oOff + k] = Math.exp(margins[mOff + k] as number);
      return;
    case 'hinge':
      for (let k = 0; k < numGroups; k++) out[oOff + k] = (margins[mOff + k] as number) > 0 ? 1 : 0;
      return;
    case 'argmax': {
      // XGBoost FindMaxIndex: the first index holding the largest value
      let best = 0;
      let max = margins[mOff] as number;
      for (let k = 1; k < numGroups; k++) {
        const v = margins[mOff + k] as number;
        if (v > max) {
          max = v;
          best = k;
        }
      }
      out[oOff] = best;
      return;
    }
    case 'log1p_exp':
      for (let k = 0; k < numGroups; k++) out[oOff + k] = Math.log1p(Math.exp(margins[mOff + k] as number));
      return;
    case 'signed_square':
      for (let k = 0; k < numGroups; k++) {
        const v = margins[mOff + k] as number;
        out[oOff + k] = Math.sign(v) * v * v;
      }
      return;
  }
}
