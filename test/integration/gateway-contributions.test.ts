// Contributions through `grove serve` (gateway + two workers): requests asking for contributions,
// in both protocols, sent concurrently with plain one-row requests the gateway may coalesce; every
// client gets its own rows' predictions, and its own rows' contributions exactly when it asked.
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contribMismatch } from '../../shared/runtime/explain/contrib-fixtures.test-helper.js';
import { readCsv } from '../../shared/runtime/fixtures.test-helper.js';
import { inParallel, type Serve, startServe } from './gateway-harness.js';
import { FIXTURES, fixtureRows, makeRepository, removeRepository } from './worker-harness.js';

const FIXTURE = 'xgboost/xgb-binary-100x4';
let repo: string;
let serve: Serve;

beforeAll(async () => {
  repo = makeRepository({ churn: { '1': FIXTURE } });
  serve = await startServe(repo, ['--workers', '2']);
}, 90_000);

afterAll(async () => {
  await serve?.stop();
  removeRepository(repo);
});

async function post(path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await request(serve.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.statusCode, body: await res.body.json() };
}

describe('contributions through the gateway', () => {
  it('are never merged with plain requests: each answer holds its own rows', async () => {
    const { rows, pred } = fixtureRows(FIXTURE);
    const contribs = readCsv(`${FIXTURES}/${FIXTURE}/contribs.csv`, false);
    const W = contribs.cols;
    const kinds = ['plain', 'v1-contrib', 'plain', 'v2-contrib', 'plain', 'v2-plain'] as const;
    const results = await inParallel(240, 24, async (i) => {
      const kind = kinds[i % kinds.length]!;
      const row = rows[i]!;
      if (kind === 'plain' || kind === 'v1-contrib') {
        const r = await post('/v1/models/churn:predict', {
          instances: [row],
          ...(kind === 'v1-contrib' ? { contributions: true } : {}),
        });
        return { i, kind, status: r.status, body: r.body };
      }
      const r = await post('/v2/models/churn/infer', {
        inputs: [{ name: 'input-0', shape: [1, 20], datatype: 'FP64', data: row }],
        ...(kind === 'v2-contrib' ? { parameters: { contributions: true } } : {}),
      });
      return { i, kind, status: r.status, body: r.body };
    });
    for (const { i, kind, status, body } of results) {
      expect(status, `${kind} #${i}: ${JSON.stringify(body)}`).toBe(200);
      const want = contribs.data.subarray(i * W, (i + 1) * W);
      if (kind === 'plain' || kind === 'v1-contrib') {
        expect(body.predictions).toHaveLength(1);
        expect(body.predictions[0]).toBeCloseTo(pred[i]![0]!, 6);
        if (kind === 'plain') expect(body.contributions).toBeUndefined();
        else {
          expect(body.contributions).toHaveLength(1);
          const got = Float64Array.from(Object.values(body.contributions[0] as Record<string, number>));
          expect(contribMismatch(got, want, W), `#${i}`).toBeNull();
        }
      } else {
        expect(body.outputs[0].data[0]).toBeCloseTo(pred[i]![0]!, 6);
        if (kind === 'v2-plain') expect(body.outputs).toHaveLength(1);
        else {
          expect(body.outputs[1].name).toBe('contributions');
          expect(contribMismatch(Float64Array.from(body.outputs[1].data), want, W), `#${i}`).toBeNull();
        }
      }
    }
  }, 120_000);
});
