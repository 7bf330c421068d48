// grove stream on a real nats-server: a consumer killed with SIGKILL mid-stream and restarted (as
// two processes sharing the durable consumer) loses nothing and duplicates nothing: the rows the
// killed process took come back after the ack wait, every input is acknowledged, every id is on
// the output stream exactly once with the library's prediction, and SIGTERM ends both (exit 0).
import { describe, expect, it } from 'vitest';
import { firstMismatch } from '../../shared/runtime/fixtures.test-helper.js';
import { natsAvailable, skipReason } from '../support/services.js';
import {
  ackedSequences,
  Collector,
  publishRows,
  readStream,
  startStream,
  streamArgs,
  streamOf,
  streamSuite,
  uniqueName,
} from './stream-harness.js';
import { fixtureRows } from './worker-harness.js';

const hasNats = natsAvailable();

describe.skipIf(!hasNats)(
  hasNats ? 'grove stream: exactly once across a kill -9' : skipReason('nats-server', 'nats-server'),
  () => {
    const suite = streamSuite({ churn: { '1': 'xgboost/xgb-binary-100x4' } });

    it('every id appears once on the output subject with the library prediction', async () => {
      const name = uniqueName('once');
      const subject = `rows.${name}`;
      const output = `predictions.${name}`;
      // Small batches above --inline-rows run on the pool; a short ack wait brings the killed
      // consumer's unacknowledged rows back soon.
      const { nc, jsm } = suite;
      const args = streamArgs(suite.url, suite.repo, name, [
        '--batch',
        '64',
        '--inline-rows',
        '16',
        '--ack-wait',
        '1000',
        '--log-level',
        'warn',
      ]);
      // 600 of the fixture's rows: enough to be mid-stream at the kill, light on a busy machine.
      const fixture = fixtureRows('xgboost/xgb-binary-100x4');
      const rows = fixture.rows.slice(0, 600);
      const pred = fixture.pred.slice(0, 600);
      const results = new Collector(nc, output);
      const acks = new Collector(nc, '$JS.ACK.>');
      const first = await startStream(args);
      const publishing = publishRows(
        nc,
        subject,
        rows.map((r, i) => ({ id: `row-${i}`, body: JSON.stringify(r) })),
      );
      await results.until(() => results.messages.length >= 150);
      expect(await first.stop('SIGKILL')).toBeNull();
      const inputSeqs = (await publishing).map((a) => a.seq);

      // The restart is two processes sharing the durable consumer, as a scaled-out deployment runs.
      const [second, third] = await Promise.all([startStream(args), startStream(args)]);
      const ids = () => new Set(results.bodies().map((b) => b.id));
      await results.until(() => ids().size === rows.length);
      // Every id can be out before every input is acknowledged: the batch the killed process
      // published but never acknowledged is delivered again only once its ack wait has passed,
      // scored again and published under the same ids (dropped as duplicates), then acknowledged.
      const acked = () => ackedSequences(acks, name);
      await acks.until(() => inputSeqs.every((q) => acked().has(q)));
      const codes = await Promise.all([second.stop('SIGTERM'), third.stop('SIGTERM')]);
      // A process that did not exit 0 says why in its log.
      expect(
        codes,
        `signals ${second.child.signalCode} ${third.child.signalCode}\n${second.stderr()}\n${third.stderr()}`,
      ).toEqual([0, 0]);

      // Nothing left to deliver or waiting for an ack.
      const ci = await jsm.consumers.info(await streamOf(jsm, subject), name);
      expect([ci.num_pending, ci.num_ack_pending]).toEqual([0, 0]);
      // The output stream holds each id once (a redelivered row's result was a duplicate).
      const stored = await readStream(nc, jsm, await streamOf(jsm, output));
      expect(stored.length).toBe(rows.length);
      const got = new Float64Array(rows.length);
      const seen = new Set<string>();
      for (const m of stored) {
        const body = JSON.parse(m.string());
        expect(m.headers?.get('Nats-Msg-Id')).toBe(body.id);
        expect([body.model, body.model_version]).toEqual(['churn', '1']);
        const i = Number(/^row-(\d+)$/.exec(body.id)![1]);
        expect(seen.has(body.id)).toBe(false);
        seen.add(body.id);
        got[i] = body.prediction;
      }
      expect(seen.size).toBe(rows.length);
      expect(firstMismatch(got, Float64Array.from(pred.map((p) => p[0]!)))).toBeNull();
      // Three consumer processes start: on a loaded 2-core machine that alone can take a minute.
    }, 240_000);
  },
);
