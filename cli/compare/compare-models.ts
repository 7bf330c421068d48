// The promotion gate's core (docs/monitoring.md, Before promotion): both models on the same rows,
// how far their predictions differ, and with labels each model's metrics with paired bootstrap 95%
// intervals (the same resamples for both, so the difference's interval is paired too); then the
// verdict (verdict.ts).

import { type CsvTable, column } from '../../shared/csv/csv-table.js';
import { BadInputError } from '../../shared/errors/grove-error.js';
import { mulberry32 } from '../../shared/random/seeded-rng.js';
import type { Model } from '../../shared/runtime/model.js';
import { bootstrapIntervals, type Interval } from '../metrics-eval/bootstrap.js';
import {
  accuracyBinary,
  accuracyMulti,
  argmaxRows,
  aucWeighted,
  logLossBinary,
  logLossMulti,
  mae,
  rmse,
  scoreOrder,
} from '../metrics-eval/scoring-metrics.js';
import { encodeLabels, type TaskKind } from './label-encoding.js';
import { type ModelScores, scoreModel } from './model-scores.js';
import { decideVerdict, type Verdict, type VerdictRule } from './verdict.js';

export const METRICS_BY_TASK: Record<TaskKind, string[]> = {
  binary: ['auc', 'logloss', 'accuracy'],
  multiclass: ['logloss', 'accuracy'],
  regression: ['rmse', 'mae'],
};
export const PRIMARY_METRIC: Record<TaskKind, string> = {
  binary: 'auc',
  multiclass: 'logloss',
  regression: 'rmse',
};

export interface CompareOptions {
  currentName: string;
  candidateName: string;
  label?: string | undefined;
  rule: VerdictRule;
  seed?: number;
  iterations?: number;
}

export type FlatMetrics = Record<string, number | [number, number]>;

/** { auc: Interval } -> { auc: value, auc_ci95: [low, high] } (the JSON contract's shape). */
export function flatMetrics(rec: Record<string, Interval>): FlatMetrics {
  const out: FlatMetrics = {};
  for (const [name, iv] of Object.entries(rec)) {
    out[name] = iv.value;
    out[`${name}_ci95`] = [iv.ci_low, iv.ci_high];
  }
  return out;
}

export interface Disagreement {
  row: number;
  current: number;
  candidate: number;
  abs_diff: number;
  label: string | null;
}

export interface CompareReport {
  rows: number;
  task: TaskKind;
  label: string | null;
  labelled_rows: number;
  prediction_diff: { max_abs: number; mean_abs: number; class_agreement: number | null; rows: number };
  /** `metrics.auc` is the value, `metrics.auc_ci95` its bootstrap 95% interval [low, high]. */
  current: {
    model: string;
    task: string;
    objective: string;
    num_features: number;
    metrics: FlatMetrics | null;
  };
  candidate: {
    model: string;
    task: string;
    objective: string;
    num_features: number;
    metrics: FlatMetrics | null;
  };
  /** candidate - current, same shape (paired resamples). */
  difference: FlatMetrics | null;
  missing_features: string[];
  /** Rows where a model's prediction is NaN or infinite (e.g. a linear model given missing values). */
  nonfinite_predictions: { current: number; candidate: number };
  absent_in_data: { current: string[]; candidate: string[] };
  primary_metric: string | null;
  verdict: Verdict;
  reasons: string[];
  rule: VerdictRule;
  bootstrap: { iterations: number; seed: number; level: number } | null;
  largest_disagreements: Disagreement[];
  /** For the HTML report and the summary only (not written to --json). */
  _intervals?: {
    current: Record<string, Interval>;
    candidate: Record<string, Interval>;
    difference: Record<string, Interval>;
  } | null;
  _charts?: { current: Float64Array; candidate: Float64Array; labels: Float64Array | null };
}

export function compareModels(
  current: Model,
  candidate: Model,
  table: CsvTable,
  opts: CompareOptions,
): CompareReport {
  const exclude = opts.label ? [opts.label] : [];
  const a = scoreModel(current, table, exclude);
  const b = scoreModel(candidate, table, exclude);
  if (a.task !== b.task || a.k !== b.k) {
    throw new BadInputError(
      `the models do not answer the same question: current is ${a.task} (${a.k} outputs), candidate is ${b.task} (${b.k} outputs)`,
    );
  }
  const n = a.rows;
  const diff = predictionDiff(a, b);
  const labelRaw = opts.label ? column(table, opts.label) : null;
  let metrics: {
    current: Record<string, Interval>;
    candidate: Record<string, Interval>;
    difference: Record<string, Interval>;
  } | null = null;
  let labelled = 0;
  let labelNumeric: Float64Array | null = null;
  const seed = opts.seed ?? 42;
  const iterations = opts.iterations ?? 1000;
  if (labelRaw) {
    const enc = encodeLabels(labelRaw, a.task, current.meta.classes, a.k);
    labelled = enc.rows.length;
    if (labelled === 0) throw new BadInputError(`label column '${opts.label}' has no values`);
    metrics = labelledMetrics(a, b, enc, seed, iterations);
    labelNumeric = new Float64Array(n).fill(Number.NaN);
    enc.rows.forEach((r, i) => {
      labelNumeric![r] = enc.binary ? enc.binary[i]! : enc.classIndex ? enc.classIndex[i]! : enc.values![i]!;
    });
  }
  const used = current.meta.usedFeatures.map((i) => current.meta.featureNames[i]!);
  const candidateNames = new Set(candidate.meta.featureNames);
  const missing = used.filter((f) => !candidateNames.has(f));
  const primary = metrics ? (opts.rule.metric ?? PRIMARY_METRIC[a.task]) : null;
  if (primary && !METRICS_BY_TASK[a.task].includes(primary)) {
    throw new BadInputError(
      `--metric ${primary} does not apply to a ${a.task} model (use ${METRICS_BY_TASK[a.task].join(', ')})`,
    );
  }
  const nonfinite = { current: countNonFinite(a.score), candidate: countNonFinite(b.score) };
  const { verdict, reasons } = decideVerdict({
    nonfinite,
    rule: opts.rule,
    primary,
    current: metrics?.current ?? null,
    candidate: metrics?.candidate ?? null,
    missingFeatures: missing,
    meanAbsDiff: diff.mean_abs,
  });
  const describe = (m: Model, name: string, met: FlatMetrics | null) => ({
    model: name,
    task: m.meta.task,
    objective: m.meta.objective,
    num_features: m.meta.numFeatures,
    metrics: met,
  });
  return {
    rows: n,
    task: a.task,
    label: opts.label ?? null,
    labelled_rows: labelled,
    prediction_diff: diff,
    current: describe(current, opts.currentName, metrics ? flatMetrics(metrics.current) : null),
    candidate: describe(candidate, opts.candidateName, metrics ? flatMetrics(metrics.candidate) : null),
    difference: metrics ? flatMetrics(metrics.difference) : null,
    missing_features: missing,
    nonfinite_predictions: nonfinite,
    absent_in_data: { current: a.absentFeatures, candidate: b.absentFeatures },
    primary_metric: primary,
    verdict,
    reasons,
    rule: opts.rule,
    bootstrap: metrics ? { iterations, seed, level: 0.95 } : null,
    largest_disagreements: disagreements(a, b, labelRaw, 20),
    _intervals: metrics,
    _charts: { current: a.score, candidate: b.score, labels: labelNumeric },
  };
}

function countNonFinite(v: Float64Array): number {
  let n = 0;
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) n++;
  return n;
}

function predictionDiff(a: ModelScores, b: ModelScores): CompareReport['prediction_diff'] {
  const va = a.probs ?? a.score;
  const vb = b.probs ?? b.score;
  let max = 0;
  let sum = 0;
  for (let i = 0; i < va.length; i++) {
    const d = Math.abs(va[i]! - vb[i]!);
    if (d > max || Number.isNaN(d)) max = Number.isNaN(d) ? max : d;
    sum += Number.isNaN(d) ? 0 : d;
  }
  let agreement: number | null = null;
  if (a.task === 'binary') {
    let same = 0;
    for (let i = 0; i < a.rows; i++) if (a.score[i]! > 0.5 === b.score[i]! > 0.5) same++;
    agreement = a.rows ? same / a.rows : null;
  } else if (a.task === 'multiclass') {
    const ca = argmaxRows(a.probs!, a.k, a.rows);
    const cb = argmaxRows(b.probs!, b.k, b.rows);
    let same = 0;
    for (let i = 0; i < a.rows; i++) if (ca[i] === cb[i]) same++;
    agreement = a.rows ? same / a.rows : null;
  }
  return {
    max_abs: max,
    mean_abs: va.length ? sum / va.length : 0,
    class_agreement: agreement,
    rows: a.rows,
  };
}

function pick(values: Float64Array, rows: Int32Array, width = 1): Float64Array {
  const out = new Float64Array(rows.length * width);
  for (let i = 0; i < rows.length; i++)
    for (let k = 0; k < width; k++) out[i * width + k] = values[rows[i]! * width + k]!;
  return out;
}

function labelledMetrics(
  a: ModelScores,
  b: ModelScores,
  enc: ReturnType<typeof encodeLabels>,
  seed: number,
  iterations: number,
) {
  const stats: Record<string, (w?: Float64Array) => number> = {};
  const names = METRICS_BY_TASK[a.task];
  const perModel = (s: ModelScores): Record<string, (w?: Float64Array) => number> => {
    if (s.task === 'binary') {
      const p = pick(s.score, enc.rows);
      const y = enc.binary!;
      const order = scoreOrder(p);
      return {
        auc: (w) => aucWeighted(p, y, order, w),
        logloss: (w) => logLossBinary(p, y, w),
        accuracy: (w) => accuracyBinary(p, y, w),
      };
    }
    if (s.task === 'multiclass') {
      const probs = pick(s.probs!, enc.rows, s.k);
      const y = enc.classIndex!;
      const predicted = argmaxRows(probs, s.k, y.length);
      return {
        logloss: (w) => logLossMulti(probs, s.k, y, w),
        accuracy: (w) => accuracyMulti(predicted, y, w),
      };
    }
    const p = pick(s.score, enc.rows);
    const y = enc.values!;
    return { rmse: (w) => rmse(p, y, w), mae: (w) => mae(p, y, w) };
  };
  const fa = perModel(a);
  const fb = perModel(b);
  for (const m of names) {
    stats[`current.${m}`] = fa[m]!;
    stats[`candidate.${m}`] = fb[m]!;
    stats[`difference.${m}`] = (w) => fb[m]!(w) - fa[m]!(w);
  }
  const iv = bootstrapIntervals(enc.rows.length, stats, mulberry32(seed), iterations);
  const part = (prefix: string) => Object.fromEntries(names.map((m) => [m, iv[`${prefix}.${m}`]!]));
  return { current: part('current'), candidate: part('candidate'), difference: part('difference') };
}

function disagreements(a: ModelScores, b: ModelScores, labels: string[] | null, top: number): Disagreement[] {
  const idx = Array.from({ length: a.rows }, (_, i) => i);
  const d = (i: number) => Math.abs(a.score[i]! - b.score[i]!);
  idx.sort((x, y) => d(y) - d(x) || x - y);
  return idx.slice(0, top).map((i) => ({
    row: i + 1,
    current: a.score[i]!,
    candidate: b.score[i]!,
    abs_diff: d(i),
    label: labels ? labels[i]! : null,
  }));
}
