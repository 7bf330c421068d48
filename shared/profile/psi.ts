// Population Stability Index: sum over bins of (actual - expected) * ln(actual / expected), with
// shares floored at PSI_EPSILON so an empty bin (a value never seen in training, or a training bin
// no live row fell in) contributes a large but finite amount. The usual reading (credit-scoring
// practice): < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 significant shift (grove's default alarm).

export const PSI_EPSILON = 1e-4;

/** PSI between expected shares and observed counts (counts[i] rows in bin i, total = their sum). */
export function psiFromCounts(
  expected: ArrayLike<number>,
  counts: ArrayLike<number>,
  total?: number,
): number {
  const n = expected.length;
  let sum = total ?? 0;
  if (total === undefined) for (let i = 0; i < n; i++) sum += counts[i]!;
  if (sum <= 0) return 0;
  let psi = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.max(expected[i]!, PSI_EPSILON);
    const a = Math.max(counts[i]! / sum, PSI_EPSILON);
    psi += (a - e) * Math.log(a / e);
  }
  return psi;
}

/** PSI between two share vectors. */
export function psiFromShares(expected: ArrayLike<number>, actual: ArrayLike<number>): number {
  return psiFromCounts(expected, actual, 1);
}
