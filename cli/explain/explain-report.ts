// `grove explain`'s result: per feature, the mean |contribution| over the input rows (per margin
// column and summed over them) beside the importance the model file records (splits and summed
// gain), sorted by mean |contribution|; as a text table, JSON, and a standalone HTML page (no
// scripts, no network) with SVG bar charts from cli/charts.

import type { ContributionImportance, FileImportance } from '../../shared/runtime/explain/importance.js';
import type { ModelMeta } from '../../shared/runtime/model.js';
import { escapeXml, groupedBarChart } from '../charts/index.js';

export interface FeatureRow {
  name: string;
  /** Mean |contribution| summed over the margin columns. */
  mean_abs_contribution: number;
  /** Share of the total mean |contribution| (0..1). */
  share: number;
  /** Per margin column (several columns only). */
  per_column?: number[];
  splits: number | null;
  gain: number | null;
}

export interface ExplainReport {
  model: string;
  library: string;
  objective: string;
  rows: number;
  margin_names: string[];
  /** Mean bias per margin column: the model's expected output in margin space. */
  expected_value: number[];
  features: FeatureRow[];
}

export function buildExplainReport(
  modelFile: string,
  meta: ModelMeta,
  imp: ContributionImportance,
  file: FileImportance[] | null,
): ExplainReport {
  const F = meta.numFeatures;
  const K = meta.rawOutputNames.length;
  let total = 0;
  for (let f = 0; f < F; f++) total += imp.meanAbs[f]!;
  const features: FeatureRow[] = meta.featureNames.map((name, f) => {
    const row: FeatureRow = {
      name,
      mean_abs_contribution: imp.meanAbs[f]!,
      share: total > 0 ? imp.meanAbs[f]! / total : 0,
      splits: file ? file[f]!.splits : null,
      gain: file ? file[f]!.gain : null,
    };
    if (K > 1) row.per_column = Array.from({ length: K }, (_, k) => imp.perColumn[k * F + f]!);
    return row;
  });
  features.sort((a, b) => b.mean_abs_contribution - a.mean_abs_contribution || a.name.localeCompare(b.name));
  return {
    model: modelFile,
    library: meta.library,
    objective: meta.objective,
    rows: imp.rows,
    margin_names: [...meta.rawOutputNames],
    expected_value: Array.from(imp.bias),
    features,
  };
}

const fmt = (x: number | null, digits = 4) =>
  x === null || !Number.isFinite(x) ? '-' : Number(x.toPrecision(digits)).toString();

/** The text table `grove explain` prints (the first `top` features). */
export function explainTable(r: ExplainReport, top: number): string {
  const head = ['feature', 'mean |contribution|', 'share', 'splits', 'gain'];
  const rows = r.features
    .slice(0, top)
    .map((f) => [
      f.name,
      fmt(f.mean_abs_contribution),
      `${(100 * f.share).toFixed(1)}%`,
      fmt(f.splits, 12),
      fmt(f.gain),
    ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const more = r.features.length > top ? `\n(${r.features.length - top} more features: --top N)` : '';
  return `${r.rows} rows; expected value (margin) ${r.expected_value.map((v) => fmt(v, 6)).join(', ')}\n${[line(head), ...rows.map(line)].join('\n')}${more}\n`;
}

/** The HTML report: the table and two charts of the first `top` features. */
export function renderExplainHtml(r: ExplainReport, top: number): string {
  const shown = r.features.slice(0, top);
  const categories = shown.map((f) => f.name);
  const K = r.margin_names.length;
  const contributions = groupedBarChart({
    title: `Mean |contribution| per feature (${r.rows} rows, margin space)`,
    yLabel: 'mean |contribution|',
    categories,
    series:
      K > 1
        ? r.margin_names.map((name, k) => ({
            name: `class ${name}`,
            values: shown.map((f) => f.per_column![k]!),
          }))
        : [{ name: 'mean |contribution|', values: shown.map((f) => f.mean_abs_contribution) }],
    width: 900,
    height: 420,
  });
  const hasFile = shown.some((f) => f.splits !== null);
  const totalGain = r.features.reduce((s, f) => s + (f.gain ?? 0), 0);
  const totalSplits = r.features.reduce((s, f) => s + (f.splits ?? 0), 0);
  const shares = hasFile
    ? groupedBarChart({
        title: 'Share of importance: contributions vs the model file',
        yLabel: 'share',
        categories,
        series: [
          { name: 'mean |contribution|', values: shown.map((f) => f.share) },
          {
            name: 'gain',
            values: shown.map((f) => (totalGain > 0 && f.gain !== null ? f.gain / totalGain : Number.NaN)),
          },
          { name: 'splits', values: shown.map((f) => (totalSplits > 0 ? (f.splits ?? 0) / totalSplits : 0)) },
        ],
        formatY: (y) => `${(100 * y).toFixed(0)}%`,
        valueLabels: false,
        width: 900,
        height: 420,
      })
    : '<p class="note">The model file records no splits or gains (not a tree model).</p>';
  const rows = shown
    .map(
      (f) =>
        `<tr><td>${escapeXml(f.name)}</td><td>${fmt(f.mean_abs_contribution, 6)}</td><td>${(100 * f.share).toFixed(1)}%</td>${
          K > 1 ? f.per_column!.map((v) => `<td>${fmt(v, 6)}</td>`).join('') : ''
        }<td>${fmt(f.splits, 12)}</td><td>${fmt(f.gain, 6)}</td></tr>`,
    )
    .join('\n');
  const perClassHead = K > 1 ? r.margin_names.map((n) => `<th>class ${escapeXml(n)}</th>`).join('') : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>grove explain: ${escapeXml(r.model)}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.note{color:#666}.charts svg{display:block;margin:12px 0}
</style></head><body>
<h1>grove explain</h1>
<p><code>${escapeXml(r.model)}</code> (${escapeXml(r.library)} ${escapeXml(r.objective)}) &middot; ${r.rows} rows &middot; expected value (margin): ${r.expected_value.map((v) => fmt(v, 6)).join(', ')}</p>
<p class="note">Contributions are exact path-dependent TreeSHAP values (linear models: coefficient &times; (value &minus; training mean)) in margin space; each row's contributions and bias sum to its raw margin. Gain and splits are what the model file records.</p>
<div class="charts">${contributions}
${shares}</div>
<h2>Features${r.features.length > top ? ` (top ${top} of ${r.features.length})` : ''}</h2>
<table><tr><th>feature</th><th>mean |contribution|</th><th>share</th>${perClassHead}<th>splits</th><th>gain</th></tr>
${rows}</table>
</body></html>
`;
}
