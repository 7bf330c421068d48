// What one model says about a table of rows, in the shape the comparison needs: the watched score
// per row (binary: P(positive class); regression: the value; multiclass: P(predicted class) for
// charts) and, for multiclass, the full probability matrix.

import { type CsvTable, tableFeatures } from '../../shared/csv/csv-table.js';
import { BadInputError } from '../../shared/errors/grove-error.js';
import { watchedOutput } from '../../shared/profile/build-profile.js';
import type { Model } from '../../shared/runtime/model.js';
import type { TaskKind } from './label-encoding.js';

export interface ModelScores {
  task: TaskKind;
  rows: number;
  /** Watched score per row. */
  score: Float64Array;
  /** Multiclass: rows x k probabilities; else null. */
  probs: Float64Array | null;
  k: number;
  /** Features the model needs that the data lacks (read as missing). */
  absentFeatures: string[];
}

export function taskKind(model: Model): TaskKind {
  const t = model.meta.task;
  if (t === 'binary') return 'binary';
  if (t === 'multiclass') return model.meta.outputNames.length > 1 ? 'multiclass' : 'regression';
  return 'regression';
}

export function scoreModel(model: Model, table: CsvTable, exclude: readonly string[]): ModelScores {
  const meta = model.meta;
  if (meta.sparse)
    throw new BadInputError(
      'grove compare reads dense CSV rows; sparse (named-feature) models are not supported',
    );
  const data = tableFeatures(table, meta.featureNames, { extraColumns: 'ignore', exclude });
  const rows = table.rows.length;
  const K = meta.outputNames.length;
  const out = new Float64Array(rows * K);
  model.predict(data, rows, out);
  const task = taskKind(model);
  const score = new Float64Array(rows);
  const hasNames = meta.featureNames.some((n) => table.header.includes(n));
  const absentFeatures = hasNames ? meta.featureNames.filter((n) => !table.header.includes(n)) : [];
  if (task === 'multiclass') {
    for (let r = 0; r < rows; r++) {
      let best = 0;
      for (let c = 1; c < K; c++) if (out[r * K + c]! > out[r * K + best]!) best = c;
      score[r] = out[r * K + best]!;
    }
    return { task, rows, score, probs: out, k: K, absentFeatures };
  }
  const k = watchedOutput(meta.task, meta.outputNames);
  for (let r = 0; r < rows; r++) score[r] = out[r * K + k]!;
  return { task, rows, score, probs: null, k: 1, absentFeatures };
}
