// `grove compare --html`: a standalone HTML page (inline SVG from cli/charts, no scripts, no
// network) with the verdict, the metrics with their intervals, the two models' score
// distributions, a calibration curve (mean predicted vs observed per score decile, with labels)
// and the rows where the models disagree most.
import { binValues, escapeXml, histogram, lineChart } from '../charts/index.js';
import type { CompareReport } from './compare-models.js';

const f = (x: number | null | undefined, digits = 4) =>
  x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : Number(x.toPrecision(digits)).toString();

/** Calibration points: for each of `bins` equal-count score bins, (mean score, mean label). */
export function calibrationPoints(
  score: Float64Array,
  labels: Float64Array,
  bins = 10,
): Array<[number, number]> {
  const idx: number[] = [];
  for (let i = 0; i < score.length; i++)
    if (Number.isFinite(labels[i]!) && Number.isFinite(score[i]!)) idx.push(i);
  idx.sort((a, b) => score[a]! - score[b]!);
  const out: Array<[number, number]> = [];
  for (let b = 0; b < bins; b++) {
    const lo = Math.floor((b * idx.length) / bins);
    const hi = Math.floor(((b + 1) * idx.length) / bins);
    if (hi <= lo) continue;
    let s = 0;
    let y = 0;
    for (let j = lo; j < hi; j++) {
      s += score[idx[j]!]!;
      y += labels[idx[j]!]!;
    }
    out.push([s / (hi - lo), y / (hi - lo)]);
  }
  return out;
}

export function renderCompareHtml(r: CompareReport): string {
  const charts = r._charts!;
  const all = [...charts.current, ...charts.candidate].filter(Number.isFinite);
  const lo = all.length ? Math.min(...all) : 0;
  const hi = all.length ? Math.max(...all) : 1;
  const ba = binValues(charts.current, 30, [lo, hi]);
  const bb = binValues(charts.candidate, 30, [lo, hi]);
  const scoreName =
    r.task === 'binary' ? 'P(positive class)' : r.task === 'multiclass' ? 'P(predicted class)' : 'prediction';
  const dist = histogram({
    title: `Score distributions (${scoreName})`,
    xLabel: scoreName,
    yLabel: 'rows',
    edges: ba.edges,
    series: [
      { name: 'current', counts: ba.counts },
      { name: 'candidate', counts: bb.counts },
    ],
    width: 760,
    height: 380,
  });
  let calibration = '<p class="note">No labels given (--label): no calibration curve.</p>';
  if (charts.labels && r.task !== 'multiclass') {
    const pa = calibrationPoints(charts.current, charts.labels);
    const pb = calibrationPoints(charts.candidate, charts.labels);
    const diag = pa.length ? [pa[0]![0], pa[pa.length - 1]![0], pb[0]![0], pb[pb.length - 1]![0]] : [0, 1];
    const d0 = Math.min(...diag);
    const d1 = Math.max(...diag);
    calibration = lineChart({
      title:
        r.task === 'binary'
          ? 'Calibration: observed positive rate per score decile'
          : 'Calibration: mean label per prediction decile',
      xLabel: 'mean predicted',
      yLabel: 'mean observed',
      yFromZero: false,
      series: [
        { name: 'current', points: pa },
        { name: 'candidate', points: pb },
        {
          name: 'perfect',
          points: [
            [d0, d0],
            [d1, d1],
          ],
          color: '#999999',
        },
      ],
      width: 760,
      height: 380,
    });
  } else if (charts.labels) {
    calibration = '<p class="note">Calibration curve is drawn for binary and regression models.</p>';
  }
  const iv = r._intervals;
  const metricRows = iv
    ? Object.keys(iv.current)
        .map((m) => {
          const c = iv.current[m]!;
          const n = iv.candidate[m]!;
          const d = iv.difference[m]!;
          return `<tr${m === r.primary_metric ? ' class="primary"' : ''}><td>${escapeXml(m)}</td><td>${f(c.value)} <span class="ci">[${f(c.ci_low)}, ${f(c.ci_high)}]</span></td><td>${f(n.value)} <span class="ci">[${f(n.ci_low)}, ${f(n.ci_high)}]</span></td><td>${f(d.value)} <span class="ci">[${f(d.ci_low)}, ${f(d.ci_high)}]</span></td></tr>`;
        })
        .join('\n')
    : '<tr><td colspan="4">no labels: metrics not computed</td></tr>';
  const dis = r.largest_disagreements
    .map(
      (d) =>
        `<tr><td>${d.row}</td><td>${f(d.current, 6)}</td><td>${f(d.candidate, 6)}</td><td>${f(d.abs_diff, 6)}</td><td>${d.label === null ? '' : escapeXml(d.label)}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>grove compare: ${escapeXml(r.verdict)}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{margin:0 0 8px} .verdict{display:inline-block;padding:4px 12px;border-radius:4px;color:#fff;font-weight:600}
.promote{background:#2e7d32}.reject{background:#c62828}.not_evaluated{background:#6d6d6d}
table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.ci{color:#777;font-size:90%}
tr.primary td{font-weight:600}.note{color:#666}.charts svg{display:block;margin:12px 0}
</style></head><body>
<h1>grove compare <span class="verdict ${r.verdict}">${r.verdict.replace('_', ' ').toUpperCase()}</span></h1>
<p>current: <code>${escapeXml(r.current.model)}</code> (${escapeXml(r.current.objective)}) &middot; candidate: <code>${escapeXml(r.candidate.model)}</code> (${escapeXml(r.candidate.objective)}) &middot; ${r.rows} rows${r.label ? `, ${r.labelled_rows} labelled ('${escapeXml(r.label)}')` : ''}</p>
<ul>${r.reasons.map((x) => `<li>${escapeXml(x)}</li>`).join('')}</ul>
<h2>Prediction differences</h2>
<table><tr><th>max |diff|</th><th>mean |diff|</th><th>class agreement</th></tr>
<tr><td>${f(r.prediction_diff.max_abs, 6)}</td><td>${f(r.prediction_diff.mean_abs, 6)}</td><td>${r.prediction_diff.class_agreement === null ? 'n/a' : f(r.prediction_diff.class_agreement, 6)}</td></tr></table>
<h2>Metrics (bootstrap 95% intervals${r.bootstrap ? `, ${r.bootstrap.iterations} resamples, seed ${r.bootstrap.seed}` : ''})</h2>
<table><tr><th>metric</th><th>current</th><th>candidate</th><th>candidate &minus; current</th></tr>
${metricRows}</table>
<div class="charts">${dist}
${calibration}</div>
<h2>Largest disagreements</h2>
<table><tr><th>row</th><th>current</th><th>candidate</th><th>|diff|</th><th>label</th></tr>
${dis}</table>
</body></html>
`;
}
