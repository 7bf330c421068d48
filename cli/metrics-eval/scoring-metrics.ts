// Evaluation metrics (binary, multiclass, regression) on labelled rows, each with optional per-row weights: a bootstrap resample is
// a weight vector of multiplicities (bootstrap.ts), so one pass per resample, no copying.
// Definitions follow scikit-learn (roc_auc_score with tied scores averaged, log_loss with
// probabilities clipped to [eps, 1 - eps] with eps = float64 machine epsilon, as scikit-learn 1.2 does, accuracy at 0.5).

/** scikit-learn 1.2 log_loss(eps="auto"): the float64 machine epsilon. */
export const LOGLOSS_EPS = Number.EPSILON;

/** Row order by ascending score (computed once, reused by every resample). */
export function scoreOrder(scores: Float64Array): Uint32Array {
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => scores[a]! - scores[b]!);
  return order;
}

/**
 * ROC AUC = P(score of a positive > score of a negative) + 0.5 P(tie) (the Mann-Whitney statistic),
 * over rows weighted by `w`. `order` is scoreOrder(scores). NaN when one class is absent.
 */
export function aucWeighted(
  scores: Float64Array,
  labels: Uint8Array,
  order: Uint32Array,
  w?: Float64Array,
): number {
  let negBelow = 0; // weight of negatives with a strictly lower score
  let pairs = 0;
  let totalPos = 0;
  let totalNeg = 0;
  let i = 0;
  const n = order.length;
  while (i < n) {
    let j = i;
    let pos = 0;
    let neg = 0;
    const s = scores[order[i]!]!;
    while (j < n && scores[order[j]!]! === s) {
      const r = order[j]!;
      const wr = w ? w[r]! : 1;
      if (labels[r] === 1) pos += wr;
      else neg += wr;
      j++;
    }
    pairs += pos * (negBelow + 0.5 * neg);
    negBelow += neg;
    totalPos += pos;
    totalNeg += neg;
    i = j;
  }
  return totalPos > 0 && totalNeg > 0 ? pairs / (totalPos * totalNeg) : Number.NaN;
}

export function logLossBinary(p: Float64Array, labels: Uint8Array, w?: Float64Array): number {
  let sum = 0;
  let wsum = 0;
  for (let i = 0; i < p.length; i++) {
    const wi = w ? w[i]! : 1;
    if (wi === 0) continue;
    const q = Math.min(Math.max(p[i]!, LOGLOSS_EPS), 1 - LOGLOSS_EPS);
    sum -= wi * (labels[i] === 1 ? Math.log(q) : Math.log(1 - q));
    wsum += wi;
  }
  return wsum > 0 ? sum / wsum : Number.NaN;
}

export function accuracyBinary(p: Float64Array, labels: Uint8Array, w?: Float64Array): number {
  let hit = 0;
  let wsum = 0;
  for (let i = 0; i < p.length; i++) {
    const wi = w ? w[i]! : 1;
    if ((p[i]! > 0.5 ? 1 : 0) === labels[i]) hit += wi;
    wsum += wi;
  }
  return wsum > 0 ? hit / wsum : Number.NaN;
}

/** Multiclass log loss: probs row-major (n x k), labels = class column. Rows are clipped and
 *  renormalized as scikit-learn's log_loss does. */
export function logLossMulti(probs: Float64Array, k: number, labels: Int32Array, w?: Float64Array): number {
  let sum = 0;
  let wsum = 0;
  for (let i = 0; i < labels.length; i++) {
    const wi = w ? w[i]! : 1;
    if (wi === 0) continue;
    let rowSum = 0;
    for (let c = 0; c < k; c++) rowSum += Math.min(Math.max(probs[i * k + c]!, LOGLOSS_EPS), 1 - LOGLOSS_EPS);
    const q = Math.min(Math.max(probs[i * k + labels[i]!]!, LOGLOSS_EPS), 1 - LOGLOSS_EPS) / rowSum;
    sum -= wi * Math.log(q);
    wsum += wi;
  }
  return wsum > 0 ? sum / wsum : Number.NaN;
}

/** Argmax of each row (first maximum on ties, as numpy.argmax). */
export function argmaxRows(probs: Float64Array, k: number, n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (probs[i * k + c]! > probs[i * k + best]!) best = c;
    out[i] = best;
  }
  return out;
}

export function accuracyMulti(predicted: Int32Array, labels: Int32Array, w?: Float64Array): number {
  let hit = 0;
  let wsum = 0;
  for (let i = 0; i < labels.length; i++) {
    const wi = w ? w[i]! : 1;
    if (predicted[i] === labels[i]) hit += wi;
    wsum += wi;
  }
  return wsum > 0 ? hit / wsum : Number.NaN;
}

export function rmse(pred: Float64Array, y: Float64Array, w?: Float64Array): number {
  let sum = 0;
  let wsum = 0;
  for (let i = 0; i < y.length; i++) {
    const wi = w ? w[i]! : 1;
    const e = pred[i]! - y[i]!;
    sum += wi * e * e;
    wsum += wi;
  }
  return wsum > 0 ? Math.sqrt(sum / wsum) : Number.NaN;
}

export function mae(pred: Float64Array, y: Float64Array, w?: Float64Array): number {
  let sum = 0;
  let wsum = 0;
  for (let i = 0; i < y.length; i++) {
    const wi = w ? w[i]! : 1;
    sum += wi * Math.abs(pred[i]! - y[i]!);
    wsum += wi;
  }
  return wsum > 0 ? sum / wsum : Number.NaN;
}
