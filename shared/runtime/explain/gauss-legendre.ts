// Gauss-Legendre quadrature on [0, 1]: m nodes and weights that integrate every polynomial of
// degree <= 2m - 1 exactly (up to rounding). TreeSHAP's Shapley weights are such integrals
// (tree-shap.ts), so a handful of nodes give exact contributions.

export interface Quadrature {
  /** Nodes in (0, 1), ascending. */
  t: Float64Array;
  /** Weights, summing to 1. */
  w: Float64Array;
}

const cache = new Map<number, Quadrature>();

/**
 * The m-point rule, by Newton's iteration on the Legendre polynomial P_m from the Chebyshev
 * starting guesses (Numerical Recipes `gauleg`), mapped from [-1, 1] to [0, 1].
 */
export function gaussLegendre(m: number): Quadrature {
  const hit = cache.get(m);
  if (hit) return hit;
  if (!(Number.isInteger(m) && m >= 1 && m <= 512)) throw new RangeError(`quadrature size ${m}`);
  const t = new Float64Array(m);
  const w = new Float64Array(m);
  for (let i = 0; i < Math.ceil(m / 2); i++) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (m + 0.5));
    let dp = 0;
    for (let iter = 0; iter < 100; iter++) {
      let p1 = 1;
      let p2 = 0;
      for (let j = 1; j <= m; j++) {
        const p3 = p2;
        p2 = p1;
        p1 = ((2 * j - 1) * z * p2 - (j - 1) * p3) / j;
      }
      dp = (m * (z * p1 - p2)) / (z * z - 1);
      const dz = p1 / dp;
      z -= dz;
      if (Math.abs(dz) < 1e-16) break;
    }
    // z is a root in (0, 1) of P_m on [-1, 1]; its mirror -z is one too.
    let p1 = 1;
    let p2 = 0;
    for (let j = 1; j <= m; j++) {
      const p3 = p2;
      p2 = p1;
      p1 = ((2 * j - 1) * z * p2 - (j - 1) * p3) / j;
    }
    dp = (m * (z * p1 - p2)) / (z * z - 1);
    const weight = 1 / ((1 - z * z) * dp * dp); // half of the [-1, 1] weight 2 / ((1 - z^2) P'^2)
    t[i] = (1 - z) / 2;
    t[m - 1 - i] = (1 + z) / 2;
    w[i] = weight;
    w[m - 1 - i] = weight;
  }
  const q = { t, w };
  cache.set(m, q);
  return q;
}
