// `npm run loadtest` end to end on two of its scenarios (a 90/10 sticky split through the admin
// API, and a version copied into the repository under load): the suite starts and stops its own
// processes, and writes results.json, a Markdown table and an HTML page with SVG charts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ScenarioResult } from '../../loadtest/suite/scenario-types.js';

const root = join(import.meta.dirname, '..', '..');
const out = mkdtempSync(join(tmpdir(), 'grove-suite-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('npm run loadtest (split and hot-swap scenarios)', () => {
  it('runs the scenarios, meets their expectations and writes the reports', () => {
    const r = spawnSync(
      process.execPath,
      [
        join(root, 'dist/loadtest/suite.js'),
        '--only',
        'split,hot-swap',
        '--duration',
        '2',
        '--connections',
        '4',
        '--out',
        out,
      ],
      { encoding: 'utf8', timeout: 110_000 },
    );
    const { results } = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
      results: ScenarioResult[];
    };
    expect(results.map((x) => x.name)).toEqual(['split 90/10', 'hot swap']);
    const [split, swap] = results;
    for (const x of results) {
      expect(x.report, x.notes?.join('; ')).not.toBeNull();
      expect(x.report!.requests).toBeGreaterThan(0);
      expect(x.report!.errors + x.report!.non2xx).toBe(0);
    }
    // The split: both versions answered, every sticky user stayed on one version.
    expect(Object.keys(split!.report!.versions).sort()).toEqual(['1', '2']);
    expect(split!.report!.sticky!.users_with_one_version).toBe(split!.report!.sticky!.users_seen);
    // The swap: version 1 answered before the copy; no request failed.
    expect(swap!.report!.versions['1']).toBeGreaterThan(0);
    expect(swap!.passed).toBe(true);
    expect(r.status, r.stderr.slice(-2000)).toBe(split!.passed ? 0 : 1);

    const md = readFileSync(join(out, 'results.md'), 'utf8');
    expect(md).toMatch(/\| split 90\/10 \| [\d.]+ \| \d+ \|/);
    expect(md).toMatch(/\| hot swap \| [\d.]+ \| \d+ \|/);
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html.match(/<svg /g)?.length).toBeGreaterThanOrEqual(3);
    expect(existsSync(join(root, 'models', '.grove'))).toBe(false);
  });
});
