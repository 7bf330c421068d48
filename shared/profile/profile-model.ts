// Profiles a model file on training data: what `grove profile` and `grove convert --profile` run.
// Loads the model, reads the CSV (columns matched to the model's feature names as docs/formats.md
// says; the label column and other columns are left out), predicts every row, and builds the
// profile (build-profile.ts).
import { readFile } from 'node:fs/promises';
import { column, readCsvFile, tableFeatures } from '../csv/csv-table.js';
import { BadInputError } from '../errors/grove-error.js';
import { meanAbsContributions } from '../runtime/explain/importance.js';
import { canExplain, explainerFor } from '../runtime/explain/index.js';
import { loadModelFileBounded } from '../runtime/isolation/model-loader.js';
import type { Model } from '../runtime/model.js';
import { textNumber } from '../runtime/values/feature-value.js';
import { buildProfile } from './build-profile.js';
import { categoricalFromModel, categoricalFromModelFile } from './categorical-features.js';
import type { ContributionProfile, Profile } from './profile-types.js';

export interface ProfileModelOptions {
  label?: string | undefined;
  bins?: number;
}

export async function profileModelFile(
  modelPath: string,
  dataPath: string,
  opts: ProfileModelOptions = {},
): Promise<Profile> {
  // Bounded and isolated, as a worker loads (docs/formats.md "Untrusted files").
  const model = await loadModelFileBounded(modelPath);
  const meta = model.meta;
  if (meta.sparse) throw new BadInputError('sparse models (named-feature pipelines) have no dense profile');
  const table = await readCsvFile(dataPath);
  if (table.rows.length === 0) throw new BadInputError(`${dataPath} has no rows`);
  const exclude = opts.label ? [opts.label] : [];
  const data = tableFeatures(table, meta.featureNames, { extraColumns: 'ignore', exclude });
  const rows = table.rows.length;
  const predictions = new Float64Array(rows * meta.outputNames.length);
  model.predict(data, rows, predictions);
  const categorical = categoricalFromModel(model);
  try {
    for (const f of categoricalFromModelFile(modelPath, new Uint8Array(await readFile(modelPath))))
      categorical.add(f);
  } catch {
    // unreadable twice is unlikely; the data heuristic still applies
  }
  let label: { name: string; values: Float64Array } | undefined;
  if (opts.label) {
    const raw = column(table, opts.label);
    label = {
      name: opts.label,
      // A label that is not a number (a class name) is left out of the label statistics.
      values: Float64Array.from(raw, (s) => textNumber(s) ?? Number.NaN),
    };
  }
  const profile = buildProfile({
    featureNames: meta.featureNames,
    task: meta.task,
    outputNames: meta.outputNames,
    data,
    rows,
    predictions,
    categorical,
    ...(opts.bins ? { bins: opts.bins } : {}),
    ...(label ? { label } : {}),
  });
  const contributions = contributionProfile(model, data, rows);
  if (contributions) profile.contributions = contributions;
  return profile;
}

/** Rows of training data the contribution baseline is computed on (evenly spread). */
export const CONTRIBUTION_PROFILE_ROWS = 2000;

/**
 * Mean |contribution| per feature over at most CONTRIBUTION_PROFILE_ROWS evenly spread rows, for
 * models that explain (the monitor's optional influence alarm compares live traffic with it);
 * null for the others.
 */
export function contributionProfile(
  model: Model,
  data: Float64Array,
  rows: number,
): ContributionProfile | null {
  if (!canExplain(model) || rows === 0) return null;
  const F = model.meta.numFeatures;
  const n = Math.min(rows, CONTRIBUTION_PROFILE_ROWS);
  const sample = new Float64Array(n * F);
  for (let i = 0; i < n; i++) {
    const r = Math.floor((i * rows) / n);
    sample.set(data.subarray(r * F, (r + 1) * F), i * F);
  }
  const imp = meanAbsContributions(explainerFor(model), sample, n);
  return { rows: n, mean_abs: Array.from(imp.meanAbs) };
}
