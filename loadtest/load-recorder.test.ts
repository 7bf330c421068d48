import { describe, expect, it } from 'vitest';
import { LoadRecorder, percentile, summarize, versionOf, workerOf } from './load-recorder.js';
import { formatReportTable } from './report-table.js';

const meta = {
  url: 'http://127.0.0.1:1',
  model: 'churn',
  version: null,
  protocol: 'v2' as const,
  mode: 'closed-loop' as const,
  connections: 2,
  rate_target: null,
  rows_per_request: 10,
};

describe('percentiles', () => {
  it('are nearest-rank over sorted values', () => {
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 100)).toBe(100);
    expect(percentile(sorted, 0)).toBe(1);
    expect(percentile([], 50)).toBeNaN();
    const s = summarize(Float64Array.from([5, 1, 3, 2, 4]));
    expect(s).toMatchObject({ p50: 3, max: 5, mean: 3 });
  });
});

describe('LoadRecorder', () => {
  it('builds a report: totals, percentiles, statuses, versions, timeline', () => {
    const t0 = 1_000_000;
    const r = new LoadRecorder(t0);
    for (let i = 0; i < 90; i++) r.response(200, 1 + (i % 10), '1', -1, t0 + 100 + i);
    for (let i = 0; i < 10; i++) r.response(200, 20, '2', -1, t0 + 1500);
    r.response(503, 2, null, -1, t0 + 1600);
    r.error(t0 + 1700, true);
    r.error(t0 + 1800);
    const rep = r.build(meta, 2);
    expect(rep.requests).toBe(101);
    expect(rep.requests_per_sec).toBe(50.5);
    expect(rep.rows_per_sec).toBe(505);
    expect(rep.latency.max).toBe(20);
    expect(rep.latency.p50).toBe(6); // 51st of 101: nine each of 1..10, one more 2
    expect(rep.latency.p99).toBe(20);
    expect(rep).toMatchObject({ errors: 2, timeouts: 1, non2xx: 1, status_codes: { '200': 100, '503': 1 } });
    expect(rep.versions).toEqual({ '1': 90, '2': 10 });
    expect(rep.workers).toEqual({});
    expect(rep.sticky).toBeNull();
    expect(rep.timeline.map((p) => p.requests)).toEqual([90, 11]);
    expect(rep.timeline.map((p) => p.errors)).toEqual([0, 2]);
    expect(rep.timeline[1]!.p99).toBe(20);
    // Grows past its initial capacity.
    const big = new LoadRecorder(t0);
    for (let i = 0; i < 40_000; i++) big.response(200, i, '1', -1, t0);
    expect(big.build(meta, 1).latency.max).toBe(39_999);
  });

  it('counts sticky users who saw exactly one version', () => {
    const r = new LoadRecorder(0, 3);
    r.response(200, 1, '1', 0, 1);
    r.response(200, 1, '1', 0, 1);
    r.response(200, 1, '2', 1, 1);
    r.response(200, 1, '1', 1, 1);
    const rep = r.build(meta, 1);
    expect(rep.sticky).toEqual({ users: 3, users_seen: 2, users_with_one_version: 1 });
    const table = formatReportTable(rep);
    expect(table).toContain('1 of 2 users saw a single version');
    expect(table).toMatch(/versions\s+1: 3 \(75\.0%\), 2: 1 \(25\.0%\)/);
  });
});

describe('workers', () => {
  it('counts responses per serving worker and shows their shares', () => {
    const r = new LoadRecorder(0);
    r.response(200, 1, '1', -1, 1, 'http://127.0.0.1:1');
    r.response(200, 1, '1', -1, 1, 'http://127.0.0.1:2');
    r.response(200, 1, '1', -1, 1, 'http://127.0.0.1:2');
    r.response(200, 1, '1', -1, 1, 'http://127.0.0.1:2');
    const rep = r.build(meta, 1);
    expect(rep.workers).toEqual({ 'http://127.0.0.1:1': 1, 'http://127.0.0.1:2': 3 });
    expect(formatReportTable(rep)).toMatch(
      /workers\s+http:\/\/127\.0\.0\.1:1 25\.0%, http:\/\/127\.0\.0\.1:2 75\.0%/,
    );
    expect(workerOf({ 'X-Grove-Worker': 'http://w:1' })).toBe('http://w:1');
    expect(workerOf({})).toBeNull();
  });
});

describe('versionOf', () => {
  it('prefers the header (any case), falls back to the body', () => {
    expect(versionOf({ 'X-Grove-Model-Version': '2' }, '{"model_version":"1"}')).toBe('2');
    expect(versionOf({ 'x-grove-model-version': ['3', '4'] }, null)).toBe('3');
    expect(versionOf({}, '{"model_name":"churn","model_version":"7","outputs":[]}')).toBe('7');
    expect(versionOf({}, '{"model_version": 12}')).toBe('12');
    expect(versionOf({}, '{}')).toBeNull();
  });
});

describe('failures', () => {
  it('keep the first distinct bodies, count the error rate, and show in the table', () => {
    const t0 = 1_000_000;
    const r = new LoadRecorder(t0);
    for (let i = 0; i < 6; i++) r.response(200, 1, '1', -1, t0 + 10);
    for (let i = 0; i < 3; i++) {
      r.response(400, 1, null, -1, t0 + 20);
      r.sample(400, '{"error":"unknown feature name(s): age","code":"GROVE_ERR_UNKNOWN_FEATURE"}');
    }
    r.error(t0 + 30);
    r.sample(null, 'connect ECONNREFUSED 127.0.0.1:1');
    r.sample(503, 'x'.repeat(1000));
    r.sample(500, 'one too many');
    const rep = r.build(meta, 1);
    expect(rep.error_rate).toBe(0.4); // 3 non-2xx + 1 without a response, of 10 sent
    expect(rep.error_samples.map((s) => s.status)).toEqual([400, null, 503]);
    expect(rep.error_samples[2]!.body).toBe(`${'x'.repeat(300)}...`);
    const table = formatReportTable(rep);
    expect(table).toContain('first errors  400: {"error":"unknown feature name(s): age"');
    expect(table).toMatch(/\n {14}no response: connect ECONNREFUSED/);
    expect(new LoadRecorder(t0).build(meta, 1).error_rate).toBe(1);
  });
});
