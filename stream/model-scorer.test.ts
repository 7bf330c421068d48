import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../shared/errors/grove-error.js';
import { loadModelFile } from '../shared/runtime/load.js';
import type { Model } from '../shared/runtime/model.js';
import { firstMismatch, fixturePath, readCsv } from '../test/support/tree-fixtures.js';
import { Predictor } from '../worker/execution/predictor.js';
import { WorkerMetrics } from '../worker/metrics/worker-metrics.js';
import type { PredictionEvent } from '../worker/observer.js';
import type { PredictPool } from '../worker/pool/predict-pool.js';
import { LoadedVersion } from '../worker/repository/loaded-version.js';
import { fakeModel } from '../worker/testing/fake-version.js';
import { ModelScorer } from './model-scorer.js';
import type { Outcome } from './scoring-loop.js';
import { MemoryMessage } from './testing/memory-engine.js';

const FIXTURE = 'xgboost/xgb-binary-100x4';

function versionOf(model: Model, version = '3'): LoadedVersion {
  return new LoadedVersion({
    name: 'churn',
    version,
    dir: '/nowhere',
    file: '/nowhere/model.json',
    sha256: 'ab'.repeat(32),
    fingerprint: '1:1:1',
    model,
    config: {},
    featureNames: model.meta.featureNames,
    key: `churn/${version}/1`,
  });
}

/** A scorer over one version (inline predictions: the pool is never reached with few rows). */
function scorerOf(v: LoadedVersion, pick?: () => LoadedVersion) {
  const metrics = new WorkerMetrics(() => null);
  const predictor = new Predictor(null as unknown as PredictPool, metrics, pino({ level: 'silent' }), 256);
  const events: PredictionEvent[] = [];
  predictor.observers.push({ observe: (e) => events.push({ ...e, requestIds: e.requestIds }) });
  const scorer = new ModelScorer({
    predictor,
    router: { stickyName: () => undefined, pick: pick ?? (() => v) },
    maxRowBytes: 4096,
    traceIds: true,
  });
  return { scorer, events, metrics };
}

function msgs(bodies: Array<string | [string, string]>): MemoryMessage[] {
  return bodies.map((b, i) =>
    typeof b === 'string'
      ? new MemoryMessage(Buffer.from(b), `id-${i}`, 1, `s:${i}`, {})
      : new MemoryMessage(Buffer.from(b[1]), b[0], 1, `s:${i}`, {}),
  );
}

async function score(scorer: ModelScorer, batch: MemoryMessage[]): Promise<Outcome[]> {
  const out: Outcome[] = new Array(batch.length);
  await scorer.score(batch, out);
  return out;
}

describe('ModelScorer', async () => {
  const model = await loadModelFile(fixturePath(`${FIXTURE}/model.json`));
  const x = readCsv(fixturePath(`${FIXTURE}/test.csv`), true);
  const want = readCsv(fixturePath(`${FIXTURE}/pred.csv`), false);
  const F = x.cols;
  const rowValues = (r: number) => Array.from(x.data.subarray(r * F, (r + 1) * F));
  const asArray = (r: number) => JSON.stringify(rowValues(r).map((v) => (Number.isNaN(v) ? null : v)));
  const asNamed = (r: number) => {
    const o: Record<string, number> = {};
    rowValues(r).forEach((v, j) => {
      if (!Number.isNaN(v)) o[`f${j}`] = v;
    });
    return JSON.stringify(o);
  };

  it('scores array rows and named rows like the library (missing = null or absent)', async () => {
    const v = versionOf(model);
    const { scorer, events } = scorerOf(v);
    const n = 200;
    const bodies = [...Array(n).keys()].map((r) => (r % 2 === 0 ? asArray(r) : asNamed(r)));
    const out = await score(scorer, msgs(bodies));
    const got = new Float64Array(n);
    out.forEach((o, r) => {
      expect(o.kind).toBe('output');
      if (o.kind !== 'output') return;
      const body = JSON.parse(o.body);
      expect(Object.keys(body)).toEqual(['id', 'model', 'model_version', 'prediction']);
      expect([body.id, body.model, body.model_version, o.id, o.version]).toEqual([
        `id-${r}`,
        'churn',
        '3',
        `id-${r}`,
        '3',
      ]);
      got[r] = body.prediction;
    });
    expect(firstMismatch(got, want.data.subarray(0, n))).toBeNull();
    // One predict call for the batch, each row named by its message id for the prediction log.
    expect(events.length).toBe(1);
    expect(events[0]!.rows).toBe(n);
    expect(events[0]!.requestIds!.map((s) => s.id)).toEqual(bodies.map((_, i) => `id-${i}`));
  });

  it('dead-letters only the bad rows of a batch, each with its code, and scores the rest', async () => {
    const { scorer } = scorerOf(versionOf(model));
    const bodies: Array<string | [string, string]> = [
      asArray(0),
      '[1, 2, 3]',
      asNamed(2),
      '{"f0": "abc"}',
      '{"f0": 1, "nope": 2}',
      '{"f0": [1, 2]}',
      '<xml/>',
      ['', asArray(7)],
      asArray(8),
      `{"id": "body-id", "f1": 0.5}`,
      JSON.stringify(['x'.repeat(5000)]),
    ];
    const batch = msgs(bodies);
    (batch[7] as unknown as { headerId: string | null }).headerId = null;
    (batch[9] as unknown as { headerId: string | null }).headerId = null;
    const out = await score(scorer, batch);
    const summary = out.map((o) => (o.kind === 'dead' ? o.error.code : o.kind));
    expect(summary).toEqual([
      'output',
      'GROVE_ERR_FEATURE_COUNT',
      'output',
      'GROVE_ERR_NOT_NUMERIC',
      'GROVE_ERR_UNKNOWN_FEATURE',
      'GROVE_ERR_NOT_NUMERIC',
      'GROVE_ERR_BAD_JSON',
      'GROVE_ERR_STREAM_NO_ID',
      'output',
      'output',
      'GROVE_ERR_BODY_TOO_LARGE',
    ]);
    const pred = (i: number) => JSON.parse((out[i] as { body: string }).body).prediction;
    expect(
      firstMismatch(
        new Float64Array([pred(0), pred(2), pred(8)]),
        new Float64Array([want.data[0]!, want.data[2]!, want.data[8]!]),
      ),
    ).toBeNull();
    // The id field is the message's, not a feature: the row scores as {"f1": 0.5}.
    const alone = new Float64Array(F).fill(Number.NaN);
    alone[1] = 0.5;
    const expected = new Float64Array(1);
    model.predictOne(alone, expected);
    expect(JSON.parse((out[9] as { body: string }).body)).toEqual({
      id: 'body-id',
      model: 'churn',
      model_version: '3',
      prediction: expected[0],
    });
    expect((out[1] as { id: string }).id).toBe('id-1');
  });

  it("retries rows when no version can serve them (not the row's fault)", async () => {
    const { scorer } = scorerOf(versionOf(model), () => {
      throw new UnavailableError('no READY version', 'GROVE_ERR_MODEL_UNAVAILABLE');
    });
    const out = await score(scorer, msgs([asArray(0), 'not json']));
    expect(
      out.map((o) => (o.kind === 'dead' || o.kind === 'retry' ? `${o.kind}:${o.error.code}` : o.kind)),
    ).toEqual(['retry:GROVE_ERR_MODEL_UNAVAILABLE', 'dead:GROVE_ERR_BAD_JSON']);
  });

  it("names several outputs by the model's output names and writes a non-finite output as null", async () => {
    const { scorer } = scorerOf(versionOf(fakeModel(2, { outputs: 3 }), '1'));
    const out = await score(scorer, msgs(['[1, 2]', '[1e308, 1e308]']));
    expect(JSON.parse((out[0] as { body: string }).body)).toEqual({
      id: 'id-0',
      model: 'churn',
      model_version: '1',
      outputs: { '0': 3, '1': 4, '2': 5 },
    });
    expect(JSON.parse((out[1] as { body: string }).body).outputs).toEqual({
      '0': null,
      '1': null,
      '2': null,
    });
  });
});
