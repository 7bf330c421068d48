// Tests for the difference of a metric between two independent groups of rows (an A/B test's
// versions see different requests): two-proportion z-test for accuracy, Welch's t-test on per-row
// losses (log loss, squared / absolute error), and DeLong's variance for AUC (DeLong, DeLong &
// Clarke-Pearson 1988) combined as a z-test for two independent AUCs.

export interface TestResult {
  test: string;
  statistic: number;
  p_value: number;
}

/** Standard normal CDF via erfc (Numerical Recipes' Chebyshev fit, |error| < 1.2e-7). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

function twoSidedNormal(z: number): number {
  if (!Number.isFinite(z)) return Number.isNaN(z) ? Number.NaN : 0;
  return Math.min(1, 2 * (1 - normalCdf(Math.abs(z))));
}

/** Two-proportion z-test (pooled variance): k1 of n1 vs k2 of n2. */
export function twoProportionZ(k1: number, n1: number, k2: number, n2: number): TestResult {
  const p = (k1 + k2) / (n1 + n2);
  const se = Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
  const z = se > 0 ? (k2 / n2 - k1 / n1) / se : 0;
  return { test: 'two-proportion z-test', statistic: z, p_value: se > 0 ? twoSidedNormal(z) : 1 };
}

/** Welch's unequal-variance t-test on two samples (e.g. per-row losses). */
export function welchT(a: ArrayLike<number>, b: ArrayLike<number>): TestResult {
  const ma = mean(a);
  const mb = mean(b);
  const va = variance(a, ma) / a.length;
  const vb = variance(b, mb) / b.length;
  const se = Math.sqrt(va + vb);
  if (!(se > 0)) return { test: 'Welch t-test', statistic: 0, p_value: 1 };
  const t = (mb - ma) / se;
  const df = (va + vb) ** 2 / ((va * va) / (a.length - 1) + (vb * vb) / (b.length - 1));
  return { test: 'Welch t-test', statistic: t, p_value: studentTwoSided(t, df) };
}

/** DeLong's variance of one AUC from its structural components. */
export function delongAuc(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
): { auc: number; variance: number } {
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < scores.length; i++) (labels[i] === 1 ? pos : neg).push(scores[i]!);
  const m = pos.length;
  const n = neg.length;
  if (m === 0 || n === 0) return { auc: Number.NaN, variance: Number.NaN };
  neg.sort((x, y) => x - y);
  const posSorted = [...pos].sort((x, y) => x - y);
  // V10[i] = share of negatives below pos[i] (+ half ties); V01[j] = share of positives above neg[j].
  const v10 = pos.map((s) => (lowerBound(neg, s) + 0.5 * (upperBound(neg, s) - lowerBound(neg, s))) / n);
  const v01 = neg.map(
    (s) => (m - upperBound(posSorted, s) + 0.5 * (upperBound(posSorted, s) - lowerBound(posSorted, s))) / m,
  );
  const auc = mean(v10);
  return { auc, variance: variance(v10, auc) / m + variance(v01, mean(v01)) / n };
}

/** z-test for the difference of two independent AUCs with DeLong variances. */
export function aucDifferenceTest(
  a: { auc: number; variance: number },
  b: { auc: number; variance: number },
): TestResult {
  const se = Math.sqrt(a.variance + b.variance);
  const z = se > 0 ? (b.auc - a.auc) / se : 0;
  return {
    test: 'DeLong z-test (independent samples)',
    statistic: z,
    p_value: se > 0 ? twoSidedNormal(z) : 1,
  };
}

export function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return a.length ? s / a.length : Number.NaN;
}

/** Sample variance (n - 1). */
export function variance(a: ArrayLike<number>, m = mean(a)): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - m) ** 2;
  return a.length > 1 ? s / (a.length - 1) : 0;
}

function lowerBound(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Two-sided p-value of Student's t with df degrees of freedom: I_{df/(df+t^2)}(df/2, 1/2). */
export function studentTwoSided(t: number, df: number): number {
  if (!Number.isFinite(t)) return 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** Regularized incomplete beta I_x(a, b) (Numerical Recipes, continued fraction). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lbeta = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  const front = Math.exp(lbeta);
  if (x < (a + 1) / (a + b + 2)) return (front * betaCf(x, a, b)) / a;
  return 1 - (front * betaCf(1 - x, b, a)) / b;
}

function betaCf(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 3e-16) break;
  }
  return h;
}

/** Lanczos approximation of ln Gamma(x), x > 0. */
function logGamma(x: number): number {
  const g = [
    76.18009172947146, -86.50532032941678, 24.01409824083091, -1.231739572450155, 0.0012086509738661,
    -0.000005395239384953,
  ];
  let y = x;
  const tmp = x + 5.5 - (x + 0.5) * Math.log(x + 5.5);
  let ser = 1.00000000019001;
  for (const c of g) ser += c / ++y;
  return -tmp + Math.log((Math.sqrt(2 * Math.PI) * ser) / x);
}
