// grove stream on a real nats-server: hostile messages (huge, not JSON, wrong shape, wrong types,
// bogus or missing ids) each become one dead letter with its GROVE_ERR_ code and are acknowledged;
// the rows around them are scored, and the consumer keeps going (nothing wedges it).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { firstMismatch } from '../../shared/runtime/fixtures.test-helper.js';
import { natsAvailable, skipReason } from '../support/services.js';
import {
  Collector,
  publishRows,
  startStream,
  streamArgs,
  streamOf,
  streamSuite,
  uniqueName,
} from './stream-harness.js';
import { fixtureRows } from './worker-harness.js';

const hasNats = natsAvailable();

describe.skipIf(!hasNats)(
  hasNats ? 'grove stream: dead letters' : skipReason('nats-server', 'nats-server'),
  () => {
    const suite = streamSuite({ churn: { '1': 'xgboost/xgb-binary-100x4' } });

    it('sends each bad message to the dead-letter subject with its code, acks it, and scores the rest', async () => {
      const { nc, jsm, repo } = suite;
      const name = uniqueName('dlq');
      const subject = `rows.${name}`;
      const output = `predictions.${name}`;
      const { rows, pred } = fixtureRows('xgboost/xgb-binary-100x4');
      const twenty = JSON.stringify(rows[0]);
      const hostile: Array<{ id: string | null; body: string | Uint8Array; code: string }> = [
        { id: 'b-json', body: 'not json', code: 'GROVE_ERR_BAD_JSON' },
        { id: 'b-empty', body: '', code: 'GROVE_ERR_BAD_JSON' },
        { id: 'b-utf8', body: new Uint8Array([0xff, 0xfe, 0x00, 0x5b]), code: 'GROVE_ERR_BAD_JSON' },
        { id: 'b-deep', body: '['.repeat(3000), code: 'GROVE_ERR_BAD_JSON' },
        { id: 'b-huge', body: `[${'1,'.repeat(3000)}1]`, code: 'GROVE_ERR_BODY_TOO_LARGE' },
        { id: 'b-string', body: '"a string"', code: 'GROVE_ERR_BAD_INPUT' },
        { id: 'b-number', body: '42', code: 'GROVE_ERR_BAD_INPUT' },
        { id: 'b-null', body: 'null', code: 'GROVE_ERR_BAD_INPUT' },
        { id: 'b-type', body: '{"f0": "abc"}', code: 'GROVE_ERR_NOT_NUMERIC' },
        { id: 'b-nested', body: JSON.stringify(rows[0]!.map(() => [1])), code: 'GROVE_ERR_NOT_NUMERIC' },
        { id: 'b-count', body: '[1, 2, 3]', code: 'GROVE_ERR_FEATURE_COUNT' },
        { id: 'b-unknown', body: '{"f0": 1, "evil": 2}', code: 'GROVE_ERR_UNKNOWN_FEATURE' },
        { id: 'b-proto', body: '{"__proto__": {"polluted": 1}, "f0": 1}', code: 'GROVE_ERR_UNKNOWN_FEATURE' },
        { id: null, body: twenty, code: 'GROVE_ERR_STREAM_NO_ID' },
        { id: null, body: '{"id": {"$ne": 1}, "f0": 1}', code: 'GROVE_ERR_STREAM_BAD_ID' },
        { id: 'x'.repeat(300), body: twenty, code: 'GROVE_ERR_STREAM_BAD_ID' },
      ];
      const good = (from: number, to: number) =>
        rows.slice(from, to).map((r, j) => ({ id: `g-${from + j}`, body: JSON.stringify(r) }));
      const results = new Collector(nc, output);
      const dead = new Collector(nc, `${output}.errors`);
      const logDir = join(repo, '.prediction-log');
      const consumer = await startStream(
        streamArgs(suite.url, repo, name, [
          '--max-row-bytes',
          '4096',
          '--metrics-port',
          '0',
          '--log-level',
          'warn',
          '--prediction-log',
          logDir,
        ]),
      );
      await publishRows(nc, subject, good(0, 5));
      const acks = await publishRows(nc, subject, hostile);
      await publishRows(nc, subject, good(5, 10));
      await results.until(() => results.messages.length >= 10);
      await dead.until(() => dead.messages.length >= hostile.length);

      // One dead letter per hostile message, found by its stream position, with the right code.
      const input = await streamOf(jsm, subject);
      const byPosition = new Map(dead.bodies().map((b) => [b.position, b]));
      expect(byPosition.size).toBe(hostile.length);
      hostile.forEach((h, i) => {
        const d = byPosition.get(`${input}:${acks[i]!.seq}`)!;
        expect({ i, code: d?.code }).toEqual({ i, code: h.code });
        expect(typeof d.error).toBe('string');
        expect(d.source).toBe(subject);
        if (h.id !== null && h.id.length <= 256) expect(d.id).toBe(h.id);
      });
      // The good rows, before and after the hostile ones, are scored like the library.
      const got = results.bodies().sort((a, b) => Number(a.id.slice(2)) - Number(b.id.slice(2)));
      expect(got.map((b) => b.id)).toEqual([...Array(10).keys()].map((i) => `g-${i}`));
      expect(
        firstMismatch(
          Float64Array.from(got.map((b) => b.prediction)),
          Float64Array.from(pred.slice(0, 10).map((p) => p[0]!)),
        ),
      ).toBeNull();

      const metrics = await (await fetch(`${consumer.metricsUrl}/metrics`)).text();
      const deadTotal = [...metrics.matchAll(/^grove_stream_dead_letters_total\{[^}]*\} (\d+)$/gm)].reduce(
        (n, m) => n + Number(m[1]),
        0,
      );
      expect(deadTotal).toBe(hostile.length);
      expect(metrics).toMatch(/^grove_stream_rows_out_total\{model="churn",version="1"\} 10$/m);
      expect(metrics).toMatch(/^grove_stream_lag_messages\{model="churn"\} 0$/m);

      expect(await consumer.stop('SIGTERM')).toBe(0);
      const ci = await jsm.consumers.info(input, name);
      expect([ci.num_pending, ci.num_ack_pending, ci.num_redelivered]).toEqual([0, 0, 0]);
      // The prediction log (flushed by the drain) holds one record per scored row, under its id.
      const records = readdirSync(logDir)
        .flatMap((f) => readFileSync(join(logDir, f), 'utf8').trim().split('\n'))
        .map((l) => JSON.parse(l) as { id: string; model: string; version: string; outputs: number[][] });
      expect(records.map((r) => r.id).sort()).toEqual(got.map((b) => b.id).sort());
      for (const r of records) {
        expect([r.model, r.version]).toEqual(['churn', '1']);
        expect(r.outputs[0]![0]).toBe(got.find((b) => b.id === r.id)!.prediction);
      }
    }, 180_000);
  },
);
