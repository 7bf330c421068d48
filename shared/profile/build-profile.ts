// Builds a training profile (profile-types.ts) from training rows and the model's predictions on
// them. Numeric features get quantile bins (quantile-bins.ts) with the exact share of training
// values in each; categorical ones (the model says so, or few distinct integer values) get the
// values seen and their shares.

import type {
  CategoricalProfile,
  FeatureProfile,
  NumericProfile,
  PredictionProfile,
  Profile,
} from './profile-types.js';
import { binOf, quantileEdges } from './quantile-bins.js';

export interface ProfileInput {
  featureNames: readonly string[];
  task: string;
  outputNames: readonly string[];
  /** Row-major, rows * featureNames.length; NaN = missing. */
  data: Float64Array;
  rows: number;
  /** Row-major model outputs (rows * outputNames.length), or null to profile inputs only. */
  predictions: Float64Array | null;
  /** Features the model splits on categorically. */
  categorical?: ReadonlySet<number>;
  bins?: number;
  /** Numeric features with at most this many distinct integer values are treated as categorical. */
  maxCategories?: number;
  label?: { name: string; values: Float64Array };
  now?: () => Date;
}

/** Category codes must fit the monitor's one-byte ring (worker/monitor/feature-window.ts). */
export const MAX_CATEGORY_VALUES = 200;

/** The output column the profile (and the monitor) watches: binary classifiers with two columns
 *  (predict_proba) -> the positive class; otherwise the first column. */
export function watchedOutput(task: string, outputNames: readonly string[]): number {
  return task === 'binary' && outputNames.length === 2 ? 1 : 0;
}

export function buildProfile(input: ProfileInput): Profile {
  const F = input.featureNames.length;
  const bins = input.bins ?? 10;
  const maxCat = input.maxCategories ?? 20;
  const features: FeatureProfile[] = [];
  const column = new Float64Array(input.rows);
  for (let f = 0; f < F; f++) {
    for (let r = 0; r < input.rows; r++) column[r] = input.data[r * F + f]!;
    const forced = input.categorical?.has(f) ?? false;
    features.push(profileColumn(input.featureNames[f]!, f, column, bins, forced, maxCat));
  }
  let prediction: PredictionProfile | null = null;
  if (input.predictions && input.outputNames.length > 0) {
    const K = input.outputNames.length;
    const k = watchedOutput(input.task, input.outputNames);
    for (let r = 0; r < input.rows; r++) column[r] = input.predictions[r * K + k]!;
    const p = profileNumeric('__prediction__', -1, column, bins);
    const { index: _i, name: _n, ...rest } = p;
    prediction = { name: '__prediction__', output_index: k, output_name: input.outputNames[k]!, ...rest };
  }
  const profile: Profile = {
    format: 'grove-profile',
    format_version: 1,
    created_at: (input.now ?? (() => new Date()))().toISOString(),
    rows: input.rows,
    bins,
    model: { task: input.task, num_features: F, feature_names: [...input.featureNames] },
    features,
    prediction,
  };
  if (input.label) {
    const v = input.label.values;
    let sum = 0;
    let n = 0;
    for (let i = 0; i < v.length; i++) {
      if (Number.isNaN(v[i]!)) continue;
      sum += v[i]!;
      n++;
    }
    profile.label = {
      name: input.label.name,
      mean: n ? sum / n : Number.NaN,
      missing_ratio: v.length ? (v.length - n) / v.length : 0,
    };
  }
  return profile;
}

function profileColumn(
  name: string,
  index: number,
  col: Float64Array,
  bins: number,
  forced: boolean,
  maxCat: number,
): FeatureProfile {
  const distinct = new Set<number>();
  let allInteger = true;
  for (let i = 0; i < col.length; i++) {
    const x = col[i]!;
    if (!Number.isFinite(x)) continue;
    if (!Number.isInteger(x)) allInteger = false;
    if (distinct.size <= MAX_CATEGORY_VALUES) distinct.add(x);
  }
  const categorical =
    distinct.size > 0 &&
    distinct.size <= MAX_CATEGORY_VALUES &&
    (forced || (allInteger && distinct.size <= maxCat));
  return categorical
    ? profileCategorical(
        name,
        index,
        col,
        [...distinct].sort((a, b) => a - b),
      )
    : profileNumeric(name, index, col, bins);
}

function counts(col: Float64Array): { missing: number; nonfinite: number; finite: number[] } {
  let missing = 0;
  let nonfinite = 0;
  const finite: number[] = [];
  for (let i = 0; i < col.length; i++) {
    const x = col[i]!;
    if (Number.isNaN(x)) missing++;
    else if (!Number.isFinite(x)) nonfinite++;
    else finite.push(x);
  }
  return { missing, nonfinite, finite };
}

export function profileNumeric(name: string, index: number, col: Float64Array, bins: number): NumericProfile {
  const { missing, nonfinite, finite } = counts(col);
  const n = col.length;
  const sorted = Float64Array.from(finite).sort();
  const edges = quantileEdges(sorted, bins);
  const c = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < sorted.length; i++) c[binOf(edges, sorted[i]!)]!++;
  return {
    name,
    index,
    type: 'numeric',
    missing_ratio: n ? missing / n : 0,
    nonfinite_ratio: n ? nonfinite / n : 0,
    min: sorted.length ? sorted[0]! : Number.NaN,
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    edges,
    shares: c.map((x) => (sorted.length ? x / sorted.length : 0)),
  };
}

function profileCategorical(
  name: string,
  index: number,
  col: Float64Array,
  values: number[],
): CategoricalProfile {
  const { missing, nonfinite, finite } = counts(col);
  const n = col.length;
  const pos = new Map(values.map((v, i) => [v, i]));
  const c = new Array<number>(values.length).fill(0);
  for (const x of finite) c[pos.get(x)!]!++;
  return {
    name,
    index,
    type: 'categorical',
    missing_ratio: n ? missing / n : 0,
    nonfinite_ratio: n ? nonfinite / n : 0,
    min: values[0]!,
    max: values[values.length - 1]!,
    values,
    shares: c.map((x) => (finite.length ? x / finite.length : 0)),
  };
}
