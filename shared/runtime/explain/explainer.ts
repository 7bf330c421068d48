// What every explainer offers: per-row feature contributions in margin space, laid out as
// LightGBM's predict(pred_contrib=True) (and XGBoost's (rows, K, F + 1) flattened class-major):
// per margin column k, F feature columns then the bias, so row r, column k, feature f is at
// out[r * K * (F + 1) + k * (F + 1) + f] and each column's F + 1 values sum to its raw margin.

export interface Explainer {
  /** Dense input width (the model's numFeatures). */
  readonly numFeatures: number;
  /** Margin columns K (classes for multiclass models, else 1). */
  readonly numGroups: number;
  /** Values per row: K * (F + 1). */
  readonly width: number;
  /**
   * Relative cost of one row, in tree nodes visited (linear models: features); callers use it to
   * decide whether a request computes inline or on a thread.
   */
  readonly costPerRow: number;
  /** Writes `rows` rows' contributions (width each) into `out` from row-major dense `input`. */
  contributions(input: Float64Array, rows: number, out: Float64Array): void;
}

/** Column names of the contribution layout: `f0,...,bias`, or `class0:f0,...,class0:bias,class1:f0,...` for K > 1. */
export function contributionColumns(featureNames: readonly string[], numGroups: number): string[] {
  const cols = [...featureNames, 'bias'];
  if (numGroups <= 1) return cols;
  const out: string[] = [];
  for (let k = 0; k < numGroups; k++) for (const c of cols) out.push(`class${k}:${c}`);
  return out;
}
