// Exported modules in headless Chromium (Debian's chromium, driven with playwright-core), loaded
// over a local HTTP server: models of every format (XGBoost, LightGBM, scikit-learn trees, linear
// models, pipelines, sparse pipelines) predict every fixture row within 1e-6 of the training
// library, on the WebAssembly kernel; on a page whose Content-Security-Policy forbids compiling
// WebAssembly and eval, the same modules answer the same on their JavaScript kernels. The example
// page (examples/browser/) builds its form from the model and predicts what is typed into it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Chromium, launchChromium } from '../../client/bench/chromium.js';
import { type StaticServer, startStaticServer } from '../../client/bench/static-server.js';
import {
  type ClientFixture,
  clientFixtures,
  epsilonsApart,
  flatten,
  mismatch,
} from '../../client/client-fixtures.test-helper.js';
import { exportModule } from '../../client/export/export-module.js';
import { GroveModel } from '../../client/grove-model.js';
import { modelFromBytes } from '../../client/model-bytes.js';
import { projectRoot } from '../../shared/runtime-path.js';
import { findChromium, skipReason } from '../support/services.js';

const chromiumPath = findChromium();
// Two engines' Math.exp each within an ulp of the true value (V8's fdlibm port claims < 1 ulp) are
// at most 2 apart; the link function's few further operations (1 + e, 1 / x, a softmax's sum and
// division, 1 - p) each round once more (epsilonsApart, client/client-fixtures.test-helper.ts).
const LINK_EPSILONS = 4;

const MODELS = [
  'xgboost/xgb-binary-100x4/model.json',
  'xgboost/xgb-binary-100x4/model.ubj',
  'xgboost/xgb-multiclass/model.json',
  'xgboost/xgb-categorical/model.json',
  'lightgbm/lgb-binary-100x4/model.txt',
  'lightgbm/lgb-multiclass/model.txt',
  'lightgbm/lgb-categorical/model.txt',
  'derived/lgb-linear-tree/model.txt',
  'derived/lgb-rf/model.txt',
  'sklearn/sk-random-forest/model.joblib',
  'sklearn/sk-gbdt-multiclass/model.joblib',
  'sklearn/sk-hist-gbdt/model.joblib',
  'sklearn/sk-logistic/model.joblib',
  'sklearn/sk-ridge/model.joblib',
  'derived/xgb-gblinear-multiclass/model.json',
  'derived-sklearn/sk-pipeline-impute-scale-forest/model.joblib',
  'derived-sklearn/sk-pipeline-impute-scale-logistic/model.joblib',
  'sklearn/sk-sparse-dictvectorizer-logistic/model.joblib',
  'derived-sklearn/sk-sparse-hasher-string/model.joblib',
];

interface Case {
  fixture: ClientFixture;
  lib: GroveModel;
  trees: boolean;
  wasm: boolean;
}

interface PageResult {
  name: string;
  kernel: string;
  meta: unknown;
  pred: unknown[];
  raw: unknown[];
}

interface RunnerReport {
  /** what the page refused: 'eval' (new Function) and 'wasm' (WebAssembly.compile) */
  refused: string[];
  results: PageResult[];
}

// The page's own module script (served same-origin, so a strict CSP still runs it; nothing is
// evaluated through the DevTools protocol, which would lift the page's eval restriction): it imports
// each exported module, predicts its rows, and reports everything through a binding.
const RUNNER = `
const refused = [];
try { new Function('return 1'); } catch { refused.push('eval'); }
try { await WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])); } catch { refused.push('wasm'); }
const results = [];
for (const c of await (await fetch('/cases.json')).json()) {
  const rows = await (await fetch(c.rows)).json();
  const m = await import(c.module);
  const kernel = await m.ready;
  results.push({ name: c.name, kernel, meta: m.meta, pred: m.predict(rows), raw: m.predictRaw(rows) });
}
await window.groveReport({ refused, results });
`;

/** Opens a runner page and resolves with its report. */
async function runPage(browser: Chromium, url: string): Promise<RunnerReport> {
  const page = await browser.context.newPage();
  try {
    const report = new Promise<RunnerReport>((resolve) => {
      void page.exposeFunction('groveReport', (r: RunnerReport) => resolve(r));
    });
    const failed = new Promise<never>((_, reject) => page.on('pageerror', reject));
    await page.goto(url);
    return await Promise.race([report, failed]);
  } finally {
    await page.close();
  }
}

const TITLE = 'exported modules in headless Chromium';

describe.skipIf(!chromiumPath)(
  chromiumPath ? TITLE : `${TITLE}: ${skipReason('Chromium', 'chromium')}`,
  () => {
    let server: StaticServer;
    let browser: Chromium;
    const cases: Case[] = [];
    let churnLib: GroveModel;

    beforeAll(async () => {
      const page = (title: string) =>
        `<!doctype html><title>${title}</title><script type="module" src="/runner.js"></script>`;
      const routes: Parameters<typeof startStaticServer>[0] = {
        '/runner.js': { body: RUNNER },
        '/index.html': { body: page('grove') },
        // No 'wasm-unsafe-eval', no 'unsafe-eval': WebAssembly.compile and new Function are refused.
        '/csp.html': {
          body: page('grove, strict CSP'),
          headers: { 'content-security-policy': "script-src 'self'" },
        },
      };
      const list: { name: string; module: string; rows: string }[] = [];
      const byName = new Map(clientFixtures().map((f) => [f.name, f]));
      MODELS.forEach((name, i) => {
        const fixture = byName.get(name);
        if (!fixture) throw new Error(`no fixture ${name}`);
        const { model, sha256 } = modelFromBytes(new Uint8Array(readFileSync(fixture.modelFile)), name);
        const out = exportModule(model, sha256, 'esm');
        const path = `/models/${i}.mjs`;
        routes[path] = { body: out.text };
        routes[`/rows/${i}.json`] = { body: JSON.stringify(fixture.rows()) };
        list.push({ name, module: path, rows: `/rows/${i}.json` });
        cases.push({
          fixture,
          lib: new GroveModel(model, sha256),
          trees: out.jsKernels > 0,
          wasm: out.wasmBytes > 0,
        });
      });
      routes['/cases.json'] = { body: JSON.stringify(list) };
      const churn = modelFromBytes(
        new Uint8Array(readFileSync(join(projectRoot, 'models/churn/1/model.json'))),
      );
      churnLib = new GroveModel(churn.model, churn.sha256);
      const example = join(projectRoot, 'examples/browser');
      routes['/example/model.js'] = { body: exportModule(churn.model, churn.sha256, 'esm').text };
      server = await startStaticServer(routes, { '/example/': example });
      browser = await launchChromium(chromiumPath!);
    });

    afterAll(async () => {
      await browser?.close();
      await server?.close();
    });

    it('every model of every format predicts every row as the training library did', async () => {
      const report = await runPage(browser, `${server.url}/index.html`);
      expect(report.refused).toEqual([]);
      expect(report.results.map((r) => r.name)).toEqual(cases.map((c) => c.fixture.name));
      report.results.forEach((res, i) => {
        const c = cases[i]!;
        const rows = c.fixture.rows();
        expect(res.kernel, res.name).toBe(c.wasm ? 'wasm' : c.trees ? 'js' : 'linear');
        expect(res.meta, res.name).toEqual(c.lib.meta);
        expect(mismatch(res.pred, c.fixture.pred()), res.name).toBeNull();
        const raw = c.fixture.raw();
        if (raw) expect(mismatch(res.raw, raw), res.name).toBeNull();
        // The same module in Node: margins to the bit, link functions within the engines' Math.exp.
        expect(flatten(res.raw), res.name).toEqual(flatten(c.lib.predictRaw(rows as never)));
        expect(
          epsilonsApart(flatten(res.pred), flatten(c.lib.predict(rows as never))),
          res.name,
        ).toBeLessThanOrEqual(LINK_EPSILONS);
      });
    });

    it('where WebAssembly and eval are forbidden, the JavaScript kernels answer the same', async () => {
      const report = await runPage(browser, `${server.url}/csp.html`);
      expect(report.refused).toEqual(['eval', 'wasm']);
      report.results.forEach((res, i) => {
        const c = cases[i]!;
        expect(res.kernel, res.name).toBe(c.trees ? 'js' : 'linear');
        expect(mismatch(res.pred, c.fixture.pred()), res.name).toBeNull();
        expect(flatten(res.raw), res.name).toEqual(flatten(c.lib.predictRaw(c.fixture.rows() as never)));
        expect(
          epsilonsApart(flatten(res.pred), flatten(c.lib.predict(c.fixture.rows() as never))),
          res.name,
        ).toBeLessThanOrEqual(LINK_EPSILONS);
      });
    });

    it('the example page predicts the values typed into its form', async () => {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${server.url}/example/index.html`);
      await page.waitForSelector('body[data-kernel="wasm"]');
      const names = await page.$$eval('#features input', (inputs) =>
        inputs.map((i) => (i as unknown as { name: string }).name),
      );
      expect(names).toEqual(Array.from({ length: 20 }, (_, i) => `f${i}`));
      const row: (number | null)[] = [-1.207, 0.452, 0.859, -1.746, -2.252, 2.517, 3.104, 0.81, 0.261, 0.149];
      for (let i = 0; i < row.length; i++) await page.fill(`input[name="f${i}"]`, String(row[i]));
      await page.click('button[type="submit"]');
      const shown = JSON.parse((await page.getAttribute('#prediction', 'data-values')) ?? 'null') as number[];
      const want = churnLib.predict([[...row, ...new Array(10).fill(null)]]);
      expect(shown).toEqual(want);
      expect(await page.textContent('#prediction')).toContain('prediction: ');
      expect(errors).toEqual([]);
      await page.close();
    });
  },
);
