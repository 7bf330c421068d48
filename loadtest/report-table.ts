// The human-readable summary `grove loadtest` prints after a run.
import type { LoadReport } from './load-recorder.js';

const fmt = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : '-');

export function formatReportTable(r: LoadReport): string {
  const target = r.version === null ? `${r.model} (split decides)` : `${r.model} version ${r.version}`;
  const mode = r.mode === 'fixed-rate' ? `fixed rate ${r.rate_target} req/s` : 'closed loop';
  const rows: Array<[string, string]> = [
    ['target', `${r.url} ${target}, protocol ${r.protocol}`],
    [
      'load',
      `${mode}, ${r.connections} connections, ${r.rows_per_request} row(s)/request, ${fmt(r.duration_s, 1)} s`,
    ],
    [
      'requests',
      `${r.requests.toLocaleString('en-US')} (${fmt(r.requests_per_sec, 1)} req/s, ${fmt(r.rows_per_sec, 0)} rows/s)`,
    ],
    [
      'latency ms',
      `p50 ${fmt(r.latency.p50)}  p90 ${fmt(r.latency.p90)}  p99 ${fmt(r.latency.p99)}  p99.9 ${fmt(r.latency.p999)}  max ${fmt(r.latency.max)}`,
    ],
    ['errors', `${r.errors} (timeouts ${r.timeouts}), non-2xx ${r.non2xx}`],
    [
      'status',
      Object.entries(r.status_codes)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ') || '-',
    ],
    [
      'versions',
      Object.entries(r.versions)
        .map(([v, n]) => `${v}: ${n} (${((100 * n) / Math.max(1, r.requests)).toFixed(1)}%)`)
        .join(', ') || '-',
    ],
  ];
  // A run that fails says why: the first distinct failures as the server answered them.
  r.error_samples.forEach((s, i) => {
    const what = s.status === null ? 'no response' : String(s.status);
    rows.push([i === 0 ? 'first errors' : '', `${what}: ${s.body.replace(/\s+/g, ' ')}`]);
  });
  if (Object.keys(r.workers).length > 0) {
    rows.push([
      'workers',
      Object.entries(r.workers)
        .map(([w, n]) => `${w} ${((100 * n) / Math.max(1, r.requests)).toFixed(1)}%`)
        .join(', '),
    ]);
  }
  if (r.sticky) {
    rows.push([
      'sticky users',
      `${r.sticky.users_with_one_version} of ${r.sticky.users_seen} users saw a single version (${r.sticky.users} simulated)`,
    ]);
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n';
}
