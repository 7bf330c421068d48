// `grove predict` (node dist/cli/grove.js) on scikit-learn files: every fixture from both
// model.joblib and model.pkl and every derived model reproduces pred.csv (and raw.csv with --raw)
// within 1e-6; a pickle that tries to run a command is refused with GROVE_ERR_UNSAFE_PICKLE and
// the command never runs; other compressors and truncated files fail with their typed codes; a
// worker serves sparse pipelines by feature name, string values one-hot encoded.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { grove } from './cli-harness.js';
import { makeRepository, removeRepository, startWorkerProcess } from './worker-harness.js';

const FIXTURES = join(import.meta.dirname, '../fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'grove-sklearn-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const parse = (text: string) =>
  Float64Array.from(
    text
      .trim()
      .split('\n')
      .flatMap((l) => l.split(',').map(Number)),
  );

function maxRelDiff(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return m;
}

const cases = ['sklearn', 'derived-sklearn'].flatMap((root) =>
  readdirSync(join(FIXTURES, root), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => {
      const dir = join(FIXTURES, root, d.name);
      const input = existsSync(join(dir, 'test.csv')) ? 'test.csv' : 'test.ndjson';
      const raw = existsSync(join(dir, 'raw.csv'));
      return ['model.joblib', 'model.pkl'].map(
        (m) => [`${root}/${d.name}/${m}`, dir, m, input, raw] as const,
      );
    }),
);

describe('grove predict on scikit-learn files', () => {
  it.each(cases)('%s', async (_label, dir, model, input, hasRaw) => {
    const res = await grove('predict', '--model', join(dir, model), '--input', join(dir, input));
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(maxRelDiff(parse(res.stdout), parse(readFileSync(join(dir, 'pred.csv'), 'utf8')))).toBeLessThan(
      1e-6,
    );
    if (hasRaw) {
      const raw = await grove('predict', '--model', join(dir, model), '--input', join(dir, input), '--raw');
      expect(raw.code).toBe(0);
      expect(maxRelDiff(parse(raw.stdout), parse(readFileSync(join(dir, 'raw.csv'), 'utf8')))).toBeLessThan(
        1e-6,
      );
    }
  });
});

describe('grove predict refuses hostile and broken scikit-learn files', () => {
  const input = join(FIXTURES, 'sklearn/sk-logistic/test.csv');

  it('a pickle calling os.system is refused and the command never runs', async () => {
    const marker = join(tmp, 'pwned');
    // protocol 2: GLOBAL 'os system', (cmd,) REDUCE, then protocol 4 STACK_GLOBAL posix.system.
    const viaGlobal = Buffer.concat([
      Buffer.from([0x80, 2]),
      Buffer.from(`cos\nsystem\n(S'touch ${marker}'\ntR.`, 'latin1'),
    ]);
    const enc = (s: string) => Buffer.concat([Buffer.from([0x8c, Buffer.byteLength(s)]), Buffer.from(s)]);
    const viaStack = Buffer.concat([
      Buffer.from([0x80, 4]),
      enc('posix'),
      enc('system'),
      Buffer.from([0x93]),
      enc(`touch ${marker}`),
      Buffer.from([0x85, 0x52, 0x2e]),
    ]);
    for (const [name, bytes, global] of [
      ['evil.pkl', viaGlobal, 'os.system'],
      ['evil2.joblib', viaStack, 'posix.system'],
    ] as const) {
      const file = join(tmp, name);
      writeFileSync(file, bytes);
      const res = await grove('predict', '--model', file, '--input', input);
      expect(res.code).not.toBe(0);
      expect(res.stderr).toContain('GROVE_ERR_UNSAFE_PICKLE');
      expect(res.stderr).toContain(global);
      expect(existsSync(marker)).toBe(false);
    }
  });

  it('truncated pickles fail with a typed error', async () => {
    const bytes = readFileSync(join(FIXTURES, 'sklearn/sk-logistic/model.pkl'));
    const file = join(tmp, 'cut.pkl');
    writeFileSync(file, bytes.subarray(0, 400));
    const res = await grove('predict', '--model', file, '--input', input);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('GROVE_ERR_MODEL_TRUNCATED');
  });

  it('an lz4-compressed joblib file is refused by name', async () => {
    const file = join(tmp, 'model.joblib');
    writeFileSync(file, Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7, 0, 0, 0, 0]));
    const res = await grove('predict', '--model', file, '--input', input);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/GROVE_ERR_(UNSUPPORTED_MODEL|UNKNOWN_FORMAT)/);
  });
});

describe('a grove worker serves scikit-learn models by feature name', () => {
  it('sparse pipelines take string values (name=value one-hot) and dense models named rows', async () => {
    const repo = makeRepository({
      hasher: { '1': 'derived-sklearn/sk-sparse-hasher-logistic' },
      tokens: { '1': 'derived-sklearn/sk-sparse-hasher-string' },
      pairs: { '1': 'derived-sklearn/sk-sparse-hasher-pair' },
      dict: { '1': 'sklearn/sk-sparse-dictvectorizer-logistic' },
      hgb: { '1': 'sklearn/sk-hist-gbdt' },
    });
    const worker = await startWorkerProcess(repo, ['--threads', '1']);
    try {
      for (const [model, fixture] of [
        ['hasher', 'derived-sklearn/sk-sparse-hasher-logistic'],
        ['tokens', 'derived-sklearn/sk-sparse-hasher-string'],
        ['pairs', 'derived-sklearn/sk-sparse-hasher-pair'],
        ['dict', 'sklearn/sk-sparse-dictvectorizer-logistic'],
      ] as const) {
        const dir = join(FIXTURES, fixture);
        const all = readFileSync(join(dir, 'test.ndjson'), 'utf8').trim().split('\n');
        const rows = all.slice(0, 50).map((l) => JSON.parse(l));
        const res = await fetch(`${worker.url}/v1/models/${model}:predict`, {
          method: 'POST',
          body: JSON.stringify({ instances: rows }),
        });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { predictions: number[][] };
        const got = Float64Array.from(body.predictions.flat());
        const expected = parse(readFileSync(join(dir, 'pred.csv'), 'utf8'));
        expect(got.length).toBe((expected.length / all.length) * 50);
        expect(maxRelDiff(got, expected.subarray(0, got.length))).toBeLessThan(1e-6);
      }
      // FeatureHasher(input_type='string') rows are token lists, also in NDJSON batches; an
      // object row is a 400 that says what the model takes.
      const tokenDir = join(FIXTURES, 'derived-sklearn/sk-sparse-hasher-string');
      const ndjson = readFileSync(join(tokenDir, 'test.ndjson'), 'utf8');
      const batch = await fetch(`${worker.url}/v1/models/tokens:batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson' },
        body: ndjson,
      });
      expect(batch.status).toBe(200);
      const lines = (await batch.text()).trim().split('\n');
      expect(lines).toHaveLength(300);
      const probs = Float64Array.from(
        lines.flatMap((l) => Object.values(JSON.parse(l) as object) as number[]),
      );
      expect(maxRelDiff(probs, parse(readFileSync(join(tokenDir, 'pred.csv'), 'utf8')))).toBeLessThan(1e-6);
      const bad = await fetch(`${worker.url}/v1/models/tokens:predict`, {
        method: 'POST',
        body: JSON.stringify({ instances: [{ w1: 1 }] }),
      });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: string }).error).toContain("input_type='string'");
      // Dense model, named features: a missing name is a missing value.
      const csv = readFileSync(join(FIXTURES, 'sklearn/sk-hist-gbdt/test.csv'), 'utf8').trim().split('\n');
      const names = csv[0]!.split(',');
      const instances = csv.slice(1, 21).map((l) => {
        const row: Record<string, number> = {};
        l.split(',').forEach((v, i) => {
          if (v !== '') row[names[i]!] = Number(v);
        });
        return row;
      });
      const res = await fetch(`${worker.url}/v1/models/hgb:predict`, {
        method: 'POST',
        body: JSON.stringify({ instances }),
      });
      const body = (await res.json()) as { predictions: number[][] };
      const expected = parse(readFileSync(join(FIXTURES, 'sklearn/sk-hist-gbdt/pred.csv'), 'utf8')).subarray(
        0,
        40,
      );
      expect(maxRelDiff(Float64Array.from(body.predictions.flat()), expected)).toBeLessThan(1e-6);
    } finally {
      await worker.stop();
      removeRepository(repo);
    }
  });
});
