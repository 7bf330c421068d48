// `grove predict --contributions` and `grove explain` through the real CLI: contributions equal the
// library's own, the importance table and JSON agree with them and with the file's splits and
// gains, refusals exit 1 with their code, and the HTML report renders in headless Chromium (its
// bar charts drawn with one bar per feature and series, no script errors).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../client/bench/chromium.js';
import { contribMismatch } from '../../shared/runtime/explain/contrib-fixtures.test-helper.js';
import { FIXTURES, readCsv } from '../../shared/runtime/fixtures.test-helper.js';
import { builtFile } from '../../shared/runtime-path.js';
import { findChromium, skipReason } from '../support/services.js';

const run = promisify(execFile);
const GROVE = builtFile('cli/grove.js');
const tmp = mkdtempSync(join(tmpdir(), 'grove-explain-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function grove(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [GROVE, ...args], { maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const XGB = join(FIXTURES, 'xgboost', 'xgb-binary-100x4');
const MULTI = join(FIXTURES, 'lightgbm', 'lgb-multiclass');

describe('grove predict --contributions', () => {
  it('writes the header and the library’s own contributions, binary and multiclass', async () => {
    for (const [dir, file] of [
      [XGB, 'model.json'],
      [MULTI, 'model.txt'],
    ] as const) {
      const out = join(tmp, 'contribs.csv');
      const r = await grove(
        'predict',
        '--model',
        join(dir, file),
        '--input',
        join(dir, 'test.csv'),
        '--contributions',
        '--output',
        out,
      );
      expect(r.code, r.stderr).toBe(0);
      const text = readFileSync(out, 'utf8');
      const header = text.slice(0, text.indexOf('\n')).split(',');
      const want = readCsv(join(dir, 'contribs.csv'), false);
      expect(header).toHaveLength(want.cols);
      if (dir === XGB) expect(header.slice(-2)).toEqual(['f19', 'bias']);
      else
        expect(header.slice(0, 2)).toEqual(['class0:f0', 'class0:f1']),
          expect(header.at(-1)).toBe('class2:bias');
      const got = readCsv(out, true);
      expect(contribMismatch(got.data, want.data, want.cols)).toBeNull();
    }
  });

  it('named NDJSON rows give the same numbers as the CSV', async () => {
    const x = readCsv(join(XGB, 'test.csv'), true);
    const names = Array.from({ length: 20 }, (_, i) => `f${i}`);
    const lines = [0, 1, 2].map((r) =>
      JSON.stringify(
        Object.fromEntries(
          names.flatMap((n, j) => (Number.isNaN(x.data[r * 20 + j]!) ? [] : [[n, x.data[r * 20 + j]!]])),
        ),
      ),
    );
    const input = join(tmp, 'rows.ndjson');
    writeFileSync(input, `${lines.join('\n')}\n`);
    const r = await grove('predict', '--model', join(XGB, 'model.json'), '--input', input, '--contributions');
    expect(r.code, r.stderr).toBe(0);
    const got = r.stdout
      .trim()
      .split('\n')
      .slice(1)
      .flatMap((l) => l.split(',').map(Number));
    const want = readCsv(join(XGB, 'contribs.csv'), false);
    expect(contribMismatch(Float64Array.from(got), want.data.subarray(0, 3 * 21), 21)).toBeNull();
  });

  it('refuses models it cannot explain (exit 2 and the code, as every CLI failure) and --raw with it (exit 2)', async () => {
    const lt = join(FIXTURES, 'derived', 'lgb-linear-tree');
    const r = await grove(
      'predict',
      '--model',
      join(lt, 'model.txt'),
      '--input',
      join(lt, 'test.csv'),
      '--contributions',
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/GROVE_ERR_EXPLAIN_UNSUPPORTED/);
    const both = await grove(
      'predict',
      '--model',
      join(XGB, 'model.json'),
      '--input',
      join(XGB, 'test.csv'),
      '--contributions',
      '--raw',
    );
    expect(both.code).toBe(2);
  });
});

describe('grove explain', () => {
  it('mean |contribution| per feature, sorted, with the file’s splits and gains', async () => {
    const r = await grove(
      'explain',
      '--model',
      join(XGB, 'model.json'),
      '--input',
      join(XGB, 'test.csv'),
      '--json',
      '-',
    );
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.rows).toBe(2000);
    expect(report.features).toHaveLength(20);
    const c = readCsv(join(XGB, 'contribs.csv'), false);
    const importance = JSON.parse(readFileSync(join(FIXTURES, 'derived', 'importance.json'), 'utf8'))[
      'xgboost/xgb-binary-100x4'
    ];
    let last = Number.POSITIVE_INFINITY;
    let shares = 0;
    for (const f of report.features) {
      const j = Number(f.name.slice(1));
      let s = 0;
      for (let r0 = 0; r0 < c.rows; r0++) s += Math.abs(c.data[r0 * c.cols + j]!);
      expect(f.mean_abs_contribution).toBeCloseTo(s / c.rows, 5);
      expect(f.mean_abs_contribution).toBeLessThanOrEqual(last);
      last = f.mean_abs_contribution;
      expect(f.splits).toBe(importance.splits[j]);
      expect(f.gain).toBeCloseTo(importance.gain[j], 2);
      shares += f.share;
    }
    expect(shares).toBeCloseTo(1, 9);
    let bias = 0;
    for (let r0 = 0; r0 < c.rows; r0++) bias += c.data[r0 * c.cols + 20]!;
    expect(report.expected_value[0]).toBeCloseTo(bias / c.rows, 6);
    // the table names the top features in the same order
    const table = await grove(
      'explain',
      '--model',
      join(XGB, 'model.json'),
      '--input',
      join(XGB, 'test.csv'),
      '--top',
      '3',
    );
    const lines = table.stdout.trim().split('\n');
    expect(lines[1]).toMatch(/^feature\s+mean \|contribution\|/);
    expect(lines.slice(2, 5).map((l) => l.split(/\s+/)[0])).toEqual(
      report.features.slice(0, 3).map((f: { name: string }) => f.name),
    );
    expect(lines.at(-1)).toMatch(/17 more features/);
  });
});

const chromiumPath = findChromium();
const TITLE = 'grove explain --html in headless Chromium';

describe.skipIf(!chromiumPath)(
  chromiumPath ? TITLE : `${TITLE}: ${skipReason('Chromium', 'chromium')}`,
  () => {
    it('renders both charts with a bar per feature and series, and the table', async () => {
      const cases = [
        { dir: XGB, file: 'model.json', series: 1 },
        { dir: MULTI, file: 'model.txt', series: 3 },
      ];
      const browser = await launchChromium(chromiumPath!);
      try {
        for (const c of cases) {
          const html = join(tmp, `report-${c.series}.html`);
          const r = await grove(
            'explain',
            '--model',
            join(c.dir, c.file),
            '--input',
            join(c.dir, 'test.csv'),
            '--top',
            '6',
            '--html',
            html,
          );
          expect(r.code, r.stderr).toBe(0);
          const page = await browser.context.newPage();
          const errors: string[] = [];
          page.on('pageerror', (e) => errors.push(String(e)));
          page.on('console', (m) => {
            if (m.type() === 'error') errors.push(m.text());
          });
          await page.goto(pathToFileURL(html).href);
          // Evaluated in the page (a string: this project's TypeScript has no DOM types).
          const seen = (await page.evaluate(`(() => {
          const svgs = [...document.querySelectorAll('svg')];
          return {
            title: document.title,
            charts: svgs.map((svg) => {
              const bars = [...svg.querySelectorAll('rect.bar')].map((b) => b.getBoundingClientRect());
              const box = svg.getBoundingClientRect();
              return {
                bars: bars.length,
                drawn: bars.filter((b) => b.height > 0 && b.width > 0).length,
                inside: bars.every((b) => b.left >= box.left && b.right <= box.right && b.top >= box.top - 1 && b.bottom <= box.bottom + 1),
                width: box.width,
                height: box.height,
              };
            }),
            rows: document.querySelectorAll('table tr').length - 1,
          };
        })()`)) as {
            title: string;
            charts: { bars: number; drawn: number; inside: boolean; width: number; height: number }[];
            rows: number;
          };
          await page.close();
          expect(errors).toEqual([]);
          expect(seen.title).toMatch(/grove explain/);
          expect(seen.charts).toHaveLength(2);
          expect(seen.charts[0]).toMatchObject({ bars: 6 * c.series, drawn: 6 * c.series, inside: true });
          expect(seen.charts[0]!.width).toBeGreaterThan(600);
          // the second chart: contribution, gain and split shares per feature
          expect(seen.charts[1]!.bars).toBe(6 * 3);
          expect(seen.charts[1]!.inside).toBe(true);
          expect(seen.rows).toBe(6);
        }
      } finally {
        await browser.close();
      }
    }, 120_000);
  },
);
