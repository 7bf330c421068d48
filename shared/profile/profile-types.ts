// The training profile (profile.json, kept as models/{m}/{v}/profile.json): what "normal" input
// and output look like, so the worker's monitor (worker/monitor/) can measure missing values,
// out-of-range values and drift (PSI) against it. docs/monitoring.md, Training profile.

/** Numeric feature: quantile bins. `edges` are the k-1 interior edges of k bins; bin 0 is
 *  (-inf, edges[0]) and bin k-1 is [edges[k-2], +inf): the outer bins are open-ended so values
 *  outside the training range still land in a bin and PSI stays defined. */
export interface NumericProfile {
  name: string;
  index: number;
  type: 'numeric';
  /** Share of rows with a missing (NaN / empty) value. */
  missing_ratio: number;
  /** Share of rows with +-Infinity. */
  nonfinite_ratio: number;
  min: number;
  max: number;
  edges: number[];
  /** Share of finite, present values per bin (length edges.length + 1, sums to 1). */
  shares: number[];
}

/** Categorical feature: the values seen in training and their shares; any other value is out of range. */
export interface CategoricalProfile {
  name: string;
  index: number;
  type: 'categorical';
  missing_ratio: number;
  nonfinite_ratio: number;
  min: number;
  max: number;
  /** Sorted ascending. */
  values: number[];
  shares: number[];
}

export type FeatureProfile = NumericProfile | CategoricalProfile;

/** The output the profile watches: the positive class's probability (binary), else the first column. */
export interface PredictionProfile extends Omit<NumericProfile, 'index' | 'name'> {
  name: '__prediction__';
  /** Column of `predict` output it describes. */
  output_index: number;
  output_name: string;
}

export interface Profile {
  format: 'grove-profile';
  format_version: 1;
  created_at: string;
  /** Training rows the profile was built from. */
  rows: number;
  bins: number;
  model: { task: string; num_features: number; feature_names: string[] };
  features: FeatureProfile[];
  prediction: PredictionProfile | null;
  label?: { name: string; mean: number; missing_ratio: number };
  /** Models that explain (docs/explanations.md): the baseline of the monitor's influence alarm. */
  contributions?: ContributionProfile;
}

/** Mean |contribution| per feature (summed over margin columns) over a sample of training rows. */
export interface ContributionProfile {
  rows: number;
  /** One value per feature, in feature order. */
  mean_abs: number[];
}

/** Name the monitor uses for the model's output (docs/monitoring.md). */
export const PREDICTION_FEATURE = '__prediction__';
