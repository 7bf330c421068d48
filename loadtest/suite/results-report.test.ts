import { describe, expect, it } from 'vitest';
import { LoadRecorder } from '../load-recorder.js';
import { renderCharts, renderHtml, renderMarkdown } from './results-report.js';
import type { ScenarioResult } from './scenario-types.js';

function report(rps: number, latency: number, versions: Record<string, number>, failures = 0) {
  const r = new LoadRecorder(0);
  let t = 0;
  for (const [v, count] of Object.entries(versions)) {
    for (let i = 0; i < count; i++) r.response(200, latency, v, -1, (t++ * 1000) / rps);
  }
  for (let i = 0; i < failures; i++) r.response(503, latency, null, -1, 10);
  return r.build(
    {
      url: 'http://127.0.0.1:1',
      model: 'churn',
      version: null,
      protocol: 'v2',
      mode: 'closed-loop',
      connections: 1,
      rate_target: null,
      rows_per_request: 1,
    },
    t / rps,
  );
}

const meta = {
  startedAt: '2026-01-01T00:00:00Z',
  node: 'v20',
  cpus: 2,
  cpuModel: 'test <cpu>',
  durationS: 3,
  note: 'n',
};
const results: ScenarioResult[] = [
  {
    group: 'peers',
    name: 'worker direct',
    description: 'd',
    command: 'grove loadtest --url x',
    report: report(100, 1, { '1': 300 }),
  },
  {
    group: 'peers',
    name: 'nginx + 2 workers',
    description: 'd',
    command: '',
    report: null,
    skipped: 'nginx is not installed',
  },
  {
    group: 'policies',
    name: 'policy p2c',
    description: 'd',
    command: 'c',
    report: report(100, 2, { '1': 300 }),
    metrics: { slow_worker_share: 0.1 },
  },
  {
    group: 'hot-swap',
    name: 'hot swap',
    description: 'd',
    command: 'c',
    report: report(100, 3, { '1': 200, '2': 100 }, 1),
    expectation: 'zero failed requests',
    passed: false,
  },
];

describe('suite results', () => {
  it('markdown: one row per scenario with versions, skips and verdicts', () => {
    const md = renderMarkdown(results, meta);
    const rows = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| scenario'));
    expect(rows).toHaveLength(4);
    // Each run's own length: the hot swap's report ran 3 s at 100 req/s, the others likewise.
    expect(rows[0]).toMatch(/^\| worker direct \| 3\.0 \| 100 \| 1\.00 \|/);
    expect(md).toContain('runs of 3 s, longer where the s column says so');
    expect(md).not.toContain('s per run');
    expect(rows[1]).toContain('skipped: nginx is not installed');
    expect(rows[3]).toContain('v1 66.4%, v2 33.2%');
    expect(rows[3]).toMatch(/\| 0 \| 1 \|/);
    expect(rows[3]).toContain('FAIL');
    expect(md).toContain('`grove loadtest --url x`');
  });

  it('charts: throughput, percentiles, policies, slow-worker share, timelines; no bars for skipped runs', () => {
    const charts = renderCharts(results);
    expect(charts).toHaveLength(6);
    expect(charts[3]).toContain('Share of requests sent to the slow worker');
    expect(charts[3]).toContain('>10<');
    expect(charts[0]).not.toContain('nginx + 2 workers');
    expect(charts[0]).toContain('>worker direct<');
  });

  it('html: escapes text and inlines every chart', () => {
    const html = renderHtml(results, meta);
    expect(html).toContain('test &lt;cpu&gt;');
    expect(html.match(/<svg /g)).toHaveLength(6);
    expect(html).toContain('<tr class="fail"><td>hot swap</td>');
  });
});
