// Decision values (K columns) -> what scikit-learn's predict_proba / predict returns, with its
// formulas: LinearClassifierMixin._predict_proba_lr (expit; binary [1 - p, p], multiclass OvR
// normalised by the row sum), LogisticRegression multinomial (softmax; binary softmax([-d, d])),
// SGDClassifier modified_huber ((clip(d, -1, 1) + 1) / 2; binary [1 - p, p]; multiclass
// normalised, all-zero rows uniform), and predict's labels for classifiers without probabilities.
import type { LinearOutput } from './linear-spec.js';

export function outputWidthOf(output: LinearOutput, K: number, nClasses: number): number {
  if (output === 'regression') return K;
  if (output === 'label') return 1;
  return nClasses;
}

const expit = (x: number) => 1 / (1 + Math.exp(-x));

/** Writes the outputs for one row of decision values `d[0..K)` into `out[at..)`. */
export function applyLinearOutput(
  output: LinearOutput,
  d: Float64Array,
  K: number,
  out: Float64Array,
  at: number,
  labels: Float64Array,
  f32: boolean,
): void {
  switch (output) {
    case 'regression':
      for (let k = 0; k < K; k++) out[at + k] = d[k]!;
      return;
    case 'logistic_ovr':
      if (K === 1) {
        const p = f32 ? Math.fround(expit(d[0]!)) : expit(d[0]!);
        out[at] = f32 ? Math.fround(1 - p) : 1 - p;
        out[at + 1] = p;
      } else {
        let sum = 0;
        for (let k = 0; k < K; k++) {
          const p = f32 ? Math.fround(expit(d[k]!)) : expit(d[k]!);
          out[at + k] = p;
          sum = f32 ? Math.fround(sum + p) : sum + p;
        }
        for (let k = 0; k < K; k++) out[at + k] = f32 ? Math.fround(out[at + k]! / sum) : out[at + k]! / sum;
      }
      return;
    case 'logistic_multinomial':
      if (K === 1) {
        softmax2(-d[0]!, d[0]!, out, at, f32);
      } else {
        let max = d[0]!;
        for (let k = 1; k < K; k++) if (d[k]! > max) max = d[k]!;
        let sum = 0;
        for (let k = 0; k < K; k++) {
          const e = Math.exp(d[k]! - max);
          out[at + k] = e;
          sum += e;
        }
        for (let k = 0; k < K; k++) out[at + k] = f32 ? Math.fround(out[at + k]! / sum) : out[at + k]! / sum;
      }
      return;
    case 'modified_huber':
      if (K === 1) {
        const p = (Math.min(1, Math.max(-1, d[0]!)) + 1) / 2;
        out[at] = 1 - p;
        out[at + 1] = p;
      } else {
        let sum = 0;
        for (let k = 0; k < K; k++) {
          const p = (Math.min(1, Math.max(-1, d[k]!)) + 1) / 2;
          out[at + k] = p;
          sum += p;
        }
        for (let k = 0; k < K; k++) out[at + k] = sum === 0 ? 1 / K : out[at + k]! / sum;
      }
      return;
    case 'label': {
      let best = 0;
      if (K === 1) best = d[0]! > 0 ? 1 : 0;
      else for (let k = 1; k < K; k++) if (d[k]! > d[best]!) best = k;
      out[at] = labels[best]!;
      return;
    }
  }
}

function softmax2(a: number, b: number, out: Float64Array, at: number, f32: boolean): void {
  const max = Math.max(a, b);
  const ea = Math.exp(a - max);
  const eb = Math.exp(b - max);
  const s = ea + eb;
  out[at] = f32 ? Math.fround(ea / s) : ea / s;
  out[at + 1] = f32 ? Math.fround(eb / s) : eb / s;
}
