// A/B evaluation from the prediction log (docs/monitoring.md, After an A/B test): joins logged predictions with
// labels by request id, then per version reports n and metrics with bootstrap 95% intervals, and
// per challenger version the difference to the baseline version with a p-value from a test that
// fits the metric. Versions in an A/B test see different requests, so the tests are for independent
// samples: two-proportion z (accuracy), DeLong z (AUC), Welch t on per-row losses (log loss, RMSE
// via squared errors, MAE via absolute errors).

import { mulberry32 } from '../../shared/random/seeded-rng.js';
import { bootstrapIntervals, type Interval } from '../metrics-eval/bootstrap.js';
import {
  accuracyBinary,
  accuracyMulti,
  argmaxRows,
  aucWeighted,
  LOGLOSS_EPS,
  logLossBinary,
  logLossMulti,
  mae,
  rmse,
  scoreOrder,
} from '../metrics-eval/scoring-metrics.js';
import {
  aucDifferenceTest,
  delongAuc,
  type TestResult,
  twoProportionZ,
  welchT,
} from '../metrics-eval/significance.js';
import { type FlatMetrics, flatMetrics } from './compare-models.js';

export interface LoggedPrediction {
  id: string;
  model: string;
  version: string;
  sha256: string;
  /** The watched output row (all columns). */
  outputs: number[];
}

export interface VersionSample {
  version: string;
  sha256: string[];
  /** Width of the outputs. */
  width: number;
  outputs: number[][];
  labels: number[];
}

export interface VersionResult {
  version: string;
  sha256: string[];
  n: number;
  /** `auc` = value, `auc_ci95` = [low, high] (as grove compare writes them). */
  metrics: FlatMetrics;
}

export interface Comparison {
  baseline: string;
  version: string;
  metric: string;
  difference: number;
  test: string;
  statistic: number;
  p_value: number;
}

export interface ModelResult {
  model: string;
  task: 'binary' | 'multiclass' | 'regression';
  versions: VersionResult[];
  comparisons: Comparison[];
}

export function inferTask(samples: VersionSample[]): ModelResult['task'] {
  const width = Math.max(...samples.map((s) => s.width));
  if (width > 2) return 'multiclass';
  const labelsBinary = samples.every((s) => s.labels.every((y) => y === 0 || y === 1));
  const scoresProb = samples.every((s) => s.outputs.every((o) => o.every((v) => v >= 0 && v <= 1)));
  return labelsBinary && scoresProb ? 'binary' : 'regression';
}

interface Prepared {
  n: number;
  fns: Record<string, (w?: Float64Array) => number>;
  /** Per-row losses (or correctness) for the tests. */
  perRow: Record<string, Float64Array>;
  scores: Float64Array;
  labels: Float64Array;
}

function prepare(s: VersionSample, task: ModelResult['task']): Prepared {
  const n = s.labels.length;
  const labels = Float64Array.from(s.labels);
  if (task === 'multiclass') {
    const k = s.width;
    const probs = new Float64Array(n * k);
    for (let i = 0; i < n; i++) probs.set(s.outputs[i]!.slice(0, k), i * k);
    const y = Int32Array.from(s.labels);
    const pred = argmaxRows(probs, k, n);
    const ll = Float64Array.from(
      { length: n },
      (_, i) => -Math.log(Math.min(Math.max(probs[i * k + y[i]!]!, LOGLOSS_EPS), 1 - LOGLOSS_EPS)),
    );
    const hit = Float64Array.from({ length: n }, (_, i) => (pred[i] === y[i] ? 1 : 0));
    return {
      n,
      fns: { logloss: (w) => logLossMulti(probs, k, y, w), accuracy: (w) => accuracyMulti(pred, y, w) },
      perRow: { logloss: ll, accuracy: hit },
      scores: new Float64Array(n),
      labels,
    };
  }
  const col = s.width === 2 ? 1 : 0;
  const p = Float64Array.from(s.outputs, (o) => o[col] ?? Number.NaN);
  if (task === 'binary') {
    const y = Uint8Array.from(s.labels);
    const order = scoreOrder(p);
    const ll = Float64Array.from(p, (q, i) => {
      const c = Math.min(Math.max(q, LOGLOSS_EPS), 1 - LOGLOSS_EPS);
      return -(y[i] === 1 ? Math.log(c) : Math.log(1 - c));
    });
    const hit = Float64Array.from(p, (q, i) => ((q > 0.5 ? 1 : 0) === y[i] ? 1 : 0));
    return {
      n,
      fns: {
        auc: (w) => aucWeighted(p, y, order, w),
        logloss: (w) => logLossBinary(p, y, w),
        accuracy: (w) => accuracyBinary(p, y, w),
      },
      perRow: { logloss: ll, accuracy: hit },
      scores: p,
      labels,
    };
  }
  return {
    n,
    fns: { rmse: (w) => rmse(p, labels, w), mae: (w) => mae(p, labels, w) },
    perRow: {
      rmse: Float64Array.from(p, (q, i) => (q - labels[i]!) ** 2),
      mae: Float64Array.from(p, (q, i) => Math.abs(q - labels[i]!)),
    },
    scores: p,
    labels,
  };
}

function testFor(metric: string, a: Prepared, b: Prepared): TestResult {
  if (metric === 'auc')
    return aucDifferenceTest(delongAuc(a.scores, a.labels), delongAuc(b.scores, b.labels));
  if (metric === 'accuracy') {
    const k = (x: Float64Array) => x.reduce((s, v) => s + v, 0);
    return twoProportionZ(k(a.perRow.accuracy!), a.n, k(b.perRow.accuracy!), b.n);
  }
  return welchT(a.perRow[metric]!, b.perRow[metric]!);
}

export function evaluateModel(
  model: string,
  samples: VersionSample[],
  opts: { seed?: number; iterations?: number; baseline?: string; task?: ModelResult['task'] } = {},
): ModelResult {
  const sorted = [...samples].sort(
    (x, y) => Number(x.version) - Number(y.version) || x.version.localeCompare(y.version),
  );
  const task = opts.task ?? inferTask(sorted);
  const prepared = sorted.map((s) => prepare(s, task));
  const intervals: Array<Record<string, Interval>> = prepared.map((p) =>
    p.n > 0 ? bootstrapIntervals(p.n, p.fns, mulberry32(opts.seed ?? 42), opts.iterations ?? 1000) : {},
  );
  const versions: VersionResult[] = sorted.map((s, i) => ({
    version: s.version,
    sha256: s.sha256,
    n: prepared[i]!.n,
    metrics: flatMetrics(intervals[i]!),
  }));
  const bi = Math.max(0, opts.baseline ? sorted.findIndex((s) => s.version === opts.baseline) : 0);
  const comparisons: Comparison[] = [];
  for (let i = 0; i < sorted.length; i++) {
    if (i === bi || prepared[i]!.n < 2 || prepared[bi]!.n < 2) continue;
    for (const metric of Object.keys(prepared[i]!.fns)) {
      const t = testFor(metric, prepared[bi]!, prepared[i]!);
      comparisons.push({
        baseline: sorted[bi]!.version,
        version: sorted[i]!.version,
        metric,
        difference: intervals[i]![metric]!.value - intervals[bi]![metric]!.value,
        test: t.test,
        statistic: t.statistic,
        p_value: t.p_value,
      });
    }
  }
  return { model, task, versions, comparisons };
}
