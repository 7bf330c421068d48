// Writes the suite's results: results.json (every report), results.md (one table) and index.html
// (the table plus SVG charts from cli/charts: throughput and latency percentiles per scenario,
// p99 by policy, and per-second timelines of the hot swap and the killed worker).
import { groupedBarChart, lineChart } from '../../cli/charts/index.js';
import { escapeXml } from '../../cli/charts/svg.js';
import type { ScenarioResult } from './scenario-types.js';

export interface SuiteMeta {
  startedAt: string;
  node: string;
  cpus: number;
  cpuModel: string;
  durationS: number;
  note: string;
}

const n = (v: number | undefined, d = 2) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(d));

function verdict(r: ScenarioResult): string {
  if (r.skipped) return `skipped: ${r.skipped}`;
  if (r.passed === undefined) return '';
  return r.passed ? 'pass' : 'FAIL';
}

function versions(r: ScenarioResult): string {
  if (!r.report) return '';
  return Object.entries(r.report.versions)
    .map(([v, c]) => `v${v} ${((100 * c) / Math.max(1, r.report!.requests)).toFixed(1)}%`)
    .join(', ');
}

/** The scenarios that need room around an event (a swap, a kill) run longer than --duration. */
function runLengths(meta: SuiteMeta): string {
  return `runs of ${meta.durationS} s, longer where the s column says so`;
}

export function renderMarkdown(results: ScenarioResult[], meta: SuiteMeta): string {
  const lines = [
    '# grove load-test results',
    '',
    `${meta.startedAt}; node ${meta.node}; ${meta.cpus} CPUs (${meta.cpuModel}); ${runLengths(meta)}. ${meta.note}`,
    '',
    '| scenario | s | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | non-2xx | versions | expectation |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const r of results) {
    const rep = r.report;
    lines.push(
      `| ${r.name} | ${n(rep?.duration_s, 1)} | ${rep ? rep.requests_per_sec.toFixed(0) : '-'} | ${n(rep?.latency.p50)} | ${n(rep?.latency.p90)} | ${n(rep?.latency.p99)} | ${n(rep?.latency.max)} | ${rep?.errors ?? '-'} | ${rep?.non2xx ?? '-'} | ${versions(r)} | ${verdict(r)} |`,
    );
  }
  lines.push('', '## Scenarios', '');
  for (const r of results) {
    lines.push(`- **${r.name}**: ${r.description}.`);
    if (r.expectation) lines.push(`  Expected: ${r.expectation}.`);
    for (const note of r.notes ?? []) lines.push(`  ${note}.`);
    if (r.command) lines.push(`  Load: \`${r.command}\``);
  }
  return lines.join('\n') + '\n';
}

export function renderCharts(results: ScenarioResult[]): string[] {
  const ran = results.filter((r) => r.report !== null);
  const charts: string[] = [];
  const categories = ran.map((r) => r.name);
  charts.push(
    groupedBarChart({
      title: 'Throughput per scenario',
      yLabel: 'requests/s',
      width: 960,
      height: 380,
      categories,
      series: [{ name: 'requests/s', values: ran.map((r) => r.report!.requests_per_sec) }],
    }),
  );
  charts.push(
    groupedBarChart({
      title: 'Latency percentiles per scenario',
      yLabel: 'ms',
      width: 960,
      height: 380,
      valueLabels: false,
      categories,
      series: [
        { name: 'p50', values: ran.map((r) => r.report!.latency.p50) },
        { name: 'p90', values: ran.map((r) => r.report!.latency.p90) },
        { name: 'p99', values: ran.map((r) => r.report!.latency.p99) },
      ],
    }),
  );
  const policies = ran.filter((r) => r.group === 'policies');
  if (policies.length > 0) {
    charts.push(
      groupedBarChart({
        title: 'One slow worker: latency by policy (fixed rate)',
        yLabel: 'ms',
        categories: policies.map((r) => r.name.replace('policy ', '')),
        series: [
          { name: 'p50', values: policies.map((r) => r.report!.latency.p50) },
          { name: 'p99', values: policies.map((r) => r.report!.latency.p99) },
        ],
      }),
    );
  }
  const shares = policies.filter((r) => r.metrics?.slow_worker_share !== undefined);
  if (shares.length > 0) {
    charts.push(
      groupedBarChart({
        title: 'Share of requests sent to the slow worker',
        yLabel: '% of requests',
        categories: shares.map((r) => r.name.replace('policy ', '')),
        series: [{ name: 'slow worker', values: shares.map((r) => 100 * r.metrics!.slow_worker_share!) }],
      }),
    );
  }
  const timed = ran.filter((r) => r.group === 'hot-swap' || r.group === 'worker-killed');
  if (timed.length > 0) {
    charts.push(
      lineChart({
        title: 'Requests per second during the hot swap and the worker kill',
        xLabel: 'second',
        yLabel: 'requests/s',
        series: timed.map((r) => ({
          name: r.name,
          points: r.report!.timeline.map((p) => [p.second, p.requests] as const),
        })),
      }),
    );
    charts.push(
      lineChart({
        title: 'p99 latency per second during the hot swap and the worker kill',
        xLabel: 'second',
        yLabel: 'ms',
        series: timed.map((r) => ({
          name: r.name,
          points: r.report!.timeline.map((p) => [p.second, p.p99] as const),
        })),
      }),
    );
  }
  return charts;
}

export function renderHtml(results: ScenarioResult[], meta: SuiteMeta): string {
  const rows = results
    .map((r) => {
      const rep = r.report;
      const cls = r.passed === false ? ' class="fail"' : '';
      return `<tr${cls}><td>${escapeXml(r.name)}</td><td>${n(rep?.duration_s, 1)}</td><td>${rep ? rep.requests_per_sec.toFixed(0) : '-'}</td><td>${n(rep?.latency.p50)}</td><td>${n(rep?.latency.p90)}</td><td>${n(rep?.latency.p99)}</td><td>${n(rep?.latency.max)}</td><td>${rep?.errors ?? '-'}</td><td>${rep?.non2xx ?? '-'}</td><td>${escapeXml(versions(r))}</td><td>${escapeXml(verdict(r))}</td></tr>`;
    })
    .join('\n');
  const details = results
    .map(
      (r) =>
        `<li><b>${escapeXml(r.name)}</b>: ${escapeXml(r.description)}.${r.expectation ? ` Expected: ${escapeXml(r.expectation)}.` : ''} ${(r.notes ?? []).map((x) => escapeXml(x)).join('. ')}${r.command ? `<br><code>${escapeXml(r.command)}</code>` : ''}</li>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>grove load-test results</title>
<style>
  body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 24px; color: #222; max-width: 1000px; }
  table { border-collapse: collapse; margin: 12px 0 24px; font-size: 14px; }
  th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: right; }
  th:first-child, td:first-child, td:nth-last-child(-n+2) { text-align: left; }
  tr.fail td { background: #fde8e8; }
  figure { margin: 16px 0; }
  code { font-size: 12px; }
  .meta { color: #555; }
</style>
</head>
<body>
<h1>grove load-test results</h1>
<p class="meta">${escapeXml(meta.startedAt)}; node ${escapeXml(meta.node)}; ${meta.cpus} CPUs (${escapeXml(meta.cpuModel)}); ${runLengths(meta)}. ${escapeXml(meta.note)}</p>
<table>
<thead><tr><th>scenario</th><th>s</th><th>req/s</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>max ms</th><th>errors</th><th>non-2xx</th><th>versions</th><th>expectation</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
${renderCharts(results)
  .map((svg) => `<figure>${svg}</figure>`)
  .join('\n')}
<h2>Scenarios</h2>
<ul>
${details}
</ul>
</body>
</html>
`;
}
