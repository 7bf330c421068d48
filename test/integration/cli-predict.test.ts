// `grove predict` and `grove convert` through the real CLI (node dist/cli/grove.js): every XGBoost,
// LightGBM and scikit-learn fixture reproduces pred.csv (and raw.csv with --raw), the .ubj twin and
// a .grove conversion too; broken or foreign files exit non-zero with a message naming the problem.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, firstMismatch, readCsv } from '../../shared/runtime/fixtures.test-helper.js';
import { grove } from './cli-harness.js';

const tmp = mkdtempSync(join(tmpdir(), 'grove-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function parseOut(text: string): Float64Array {
  return Float64Array.from(
    text
      .trim()
      .split('\n')
      .flatMap((l) => l.split(',').map(Number)),
  );
}

const cases = ['xgboost', 'lightgbm', 'sklearn'].flatMap((lib) =>
  readdirSync(join(FIXTURES, lib)).map((name) => {
    const dir = join(FIXTURES, lib, name);
    const files = readdirSync(dir);
    const model = files.find((f) => /^model\.(json|txt|joblib)$/.test(f))!;
    const input = files.find((f) => /^test\.(csv|ndjson)$/.test(f))!;
    return [`${lib}/${name}`, dir, model, input, files.includes('raw.csv')] as const;
  }),
);

describe.each(cases)('grove predict %s', (_name, dir, model, input, hasRaw) => {
  it('writes pred.csv (and raw.csv with --raw) to stdout, no header, shortest round-trip numbers', async () => {
    const r = await grove('predict', '--model', join(dir, model), '--input', join(dir, input));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const want = readCsv(join(dir, 'pred.csv'), false);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBe(want.rows);
    expect(lines[0]!.split(',').length).toBe(want.cols);
    expect(firstMismatch(parseOut(r.stdout), want.data)).toBeNull();
    for (const v of lines[0]!.split(',')) expect(String(Number(v))).toBe(v);
    if (hasRaw) {
      const out = join(tmp, `${_name.replace('/', '_')}-raw.csv`);
      const rr = await grove(
        'predict',
        '--model',
        join(dir, model),
        '--input',
        join(dir, input),
        '--raw',
        '--output',
        out,
      );
      expect(rr.code).toBe(0);
      expect(rr.stdout).toBe('');
      expect(
        firstMismatch(parseOut(readFileSync(out, 'utf8')), readCsv(join(dir, 'raw.csv'), false).data),
      ).toBeNull();
    }
  });
});

describe('grove predict: other inputs and errors', () => {
  const dir = join(FIXTURES, 'xgboost', 'xgb-binary-100x4');

  it('the .ubj twin and a converted .grove file print the same lines as model.json', async () => {
    const json = await grove('predict', '--model', join(dir, 'model.json'), '--input', join(dir, 'test.csv'));
    const ubj = await grove('predict', '--model', join(dir, 'model.ubj'), '--input', join(dir, 'test.csv'));
    expect(ubj.code).toBe(0);
    expect(ubj.stdout).toBe(json.stdout);
    const g = join(tmp, 'm.grove');
    const conv = await grove('convert', '--model', join(dir, 'model.ubj'), '--output', g);
    expect(conv.code).toBe(0);
    const viaGrove = await grove('predict', '--model', g, '--input', join(dir, 'test.csv'));
    expect(viaGrove.stdout).toBe(json.stdout);
  });

  it('maps CSV columns by name in any order, and reads NDJSON rows', async () => {
    const lines = readFileSync(join(dir, 'test.csv'), 'utf8').trim().split('\n').slice(0, 6);
    const cells = lines.map((l) => l.split(','));
    const reversed = cells.map((c) => [...c].reverse().join(',')).join('\n') + '\n';
    writeFileSync(join(tmp, 'rev.csv'), reversed);
    const header = cells[0]!;
    const nd = cells
      .slice(1)
      .map((c) =>
        JSON.stringify(Object.fromEntries(c.flatMap((v, i) => (v === '' ? [] : [[header[i], Number(v)]])))),
      )
      .join('\n');
    writeFileSync(join(tmp, 'rows.ndjson'), nd + '\n');
    const base = await grove('predict', '--model', join(dir, 'model.json'), '--input', join(dir, 'test.csv'));
    const want = base.stdout.split('\n').slice(0, 5).join('\n') + '\n';
    expect(
      (await grove('predict', '--model', join(dir, 'model.json'), '--input', join(tmp, 'rev.csv'))).stdout,
    ).toBe(want);
    expect(
      (await grove('predict', '--model', join(dir, 'model.json'), '--input', join(tmp, 'rows.ndjson')))
        .stdout,
    ).toBe(want);
  });

  it('a truncated model file fails with a message that says so', async () => {
    const bytes = readFileSync(join(dir, 'model.json'));
    writeFileSync(join(tmp, 'cut.json'), bytes.subarray(0, bytes.length >> 1));
    const r = await grove('predict', '--model', join(tmp, 'cut.json'), '--input', join(dir, 'test.csv'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/truncated/i);
    expect(r.stderr).toMatch(/GROVE_ERR_MODEL_TRUNCATED/);
    const g = join(tmp, 'm2.grove');
    await grove('convert', '--model', join(dir, 'model.json'), '--output', g);
    writeFileSync(join(tmp, 'cut.grove'), readFileSync(g).subarray(0, 500));
    const rg = await grove('predict', '--model', join(tmp, 'cut.grove'), '--input', join(dir, 'test.csv'));
    expect(rg.code).not.toBe(0);
    expect(rg.stderr).toMatch(/GROVE_ERR_MODEL_TRUNCATED/);
  });

  it('a file of another kind fails with a message naming what it is not', async () => {
    const r = await grove('predict', '--model', join(dir, 'test.csv'), '--input', join(dir, 'test.csv'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/GROVE_ERR_/);
    expect(r.stderr).toMatch(/test\.csv/);
  });

  it('unknown CSV columns are named; missing options print usage', async () => {
    writeFileSync(join(tmp, 'odd.csv'), 'f0,zzz\n1,2\n');
    const r = await grove('predict', '--model', join(dir, 'model.json'), '--input', join(tmp, 'odd.csv'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/zzz/);
    const u = await grove('predict', '--model', join(dir, 'model.json'));
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/usage: grove predict/);
  });

  it('grove bench prints batch and single ns per row as its last line', async () => {
    const r = await grove(
      'bench',
      '--model',
      join(dir, 'model.json'),
      '--input',
      join(dir, 'test.csv'),
      '--rows',
      '500',
      '--rounds',
      '2',
    );
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^batch_ns_per_row=\d+ single_ns_per_row=\d+$/);
  });
});
