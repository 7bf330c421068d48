// Global feature importance, two ways:
// - from the model file (`fileImportance`): per feature, how many splits use it and their summed
//   gain (XGBoost loss_changes = get_score's total_gain, LightGBM split_gain = feature_importance
//   ('gain'), scikit-learn's weighted impurity decrease = feature_importances_ before
//   normalising); read from the container's explanation sections, nothing recomputed;
// - from contributions (`meanAbsContributions`): the mean |contribution| of each feature over a
//   set of rows, per margin column and summed over them.
import { Container } from '../container.js';
import type { Model } from '../model.js';
import type { TreesDescriptorExtra } from '../trees/flat-layout.js';
import { TREES_KIND } from '../trees/tree-model.js';
import type { Explainer } from './explainer.js';

export interface FileImportance {
  name: string;
  /** Summed split gain; null when the file stores no gains. */
  gain: number | null;
  splits: number;
}

/** Split counts and gains per feature of a tree model; null for other models or old containers. */
export function fileImportance(model: Model): FileImportance[] | null {
  const c = new Container(model.buffer);
  if (c.descriptor.kind !== TREES_KIND || !c.has('explain_kids') || !c.has('explain_ref')) return null;
  const d = c.descriptor as unknown as TreesDescriptorExtra;
  const F = d.numFeatures;
  const kids = c.i32('explain_kids');
  const refs = c.i32('explain_ref');
  const nodeSlot = c.i32('node_slot');
  const gains = d.explain?.gain && c.has('explain_gain') ? c.f64('explain_gain') : null;
  const splits = new Float64Array(F);
  const gain = new Float64Array(F);
  for (let i = 0; i < refs.length; i++) {
    const ref = refs[i]!;
    // Inner nodes reached from a root (unreachable IR nodes have no flat node).
    if (kids[2 * i]! < 0 || ref < 0 || ref >= nodeSlot.length) continue;
    const f = nodeSlot[ref]! % F;
    splits[f]! += 1;
    if (gains) gain[f]! += gains[i]!;
  }
  return model.meta.featureNames.map((name, f) => ({
    name,
    gain: gains ? gain[f]! : null,
    splits: splits[f]!,
  }));
}

export interface ContributionImportance {
  /** Per feature: mean |contribution| summed over the margin columns. */
  meanAbs: Float64Array;
  /** Per margin column k and feature f at k * F + f: mean |contribution|. */
  perColumn: Float64Array;
  /** Per margin column: the mean bias (the model's expected value). */
  bias: Float64Array;
  rows: number;
}

/** Mean |contribution| per feature over `rows` rows, in blocks so memory stays bounded. */
export function meanAbsContributions(
  e: Explainer,
  input: Float64Array,
  rows: number,
): ContributionImportance {
  const F = e.numFeatures;
  const K = e.numGroups;
  const block = Math.max(1, Math.min(rows, 1024));
  const out = new Float64Array(block * e.width);
  const perColumn = new Float64Array(K * F);
  const bias = new Float64Array(K);
  for (let r0 = 0; r0 < rows; r0 += block) {
    const n = Math.min(block, rows - r0);
    e.contributions(input.subarray(r0 * F, (r0 + n) * F), n, out);
    for (let r = 0; r < n; r++)
      for (let k = 0; k < K; k++) {
        const o = r * e.width + k * (F + 1);
        for (let f = 0; f < F; f++) perColumn[k * F + f]! += Math.abs(out[o + f]!);
        bias[k]! += out[o + F]!;
      }
  }
  const meanAbs = new Float64Array(F);
  if (rows > 0) {
    for (let i = 0; i < perColumn.length; i++) perColumn[i]! /= rows;
    for (let k = 0; k < K; k++) bias[k]! /= rows;
    for (let k = 0; k < K; k++) for (let f = 0; f < F; f++) meanAbs[f]! += perColumn[k * F + f]!;
  }
  return { meanAbs, perColumn, bias, rows };
}
