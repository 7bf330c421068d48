// grove stream on a real nats-server: an existing stream is used as it is (its name and storage
// untouched), a missing one is created with file storage and a duplicate window, and an existing
// durable consumer that reads another subject stops the start with GROVE_ERR_STREAM_CONFIG.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { AckPolicy, nanos, StorageType } from 'nats';
import { describe, expect, it } from 'vitest';
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
import { fixtureRows, ROOT } from './worker-harness.js';

const hasNats = natsAvailable();

describe.skipIf(!hasNats)(
  hasNats ? 'grove stream: streams and consumer' : skipReason('nats-server', 'nats-server'),
  () => {
    const suite = streamSuite({ churn: { '1': 'xgboost/xgb-binary-100x4' } });

    it('uses an existing stream as it is and creates the missing ones with file storage', async () => {
      const { nc, jsm } = suite;
      const name = uniqueName('setup');
      const existing = `mine_${name}`;
      await jsm.streams.add({ name: existing, subjects: [`rows.${name}.>`], storage: StorageType.Memory });
      const subject = `rows.${name}.eu`;
      const output = `predictions.${name}`;
      const results = new Collector(nc, output);
      const consumer = await startStream(
        streamArgs(suite.url, suite.repo, name, ['--dedup-window', '60000'], subject),
      );
      const { rows } = fixtureRows('xgboost/xgb-binary-100x4');
      await publishRows(nc, subject, [{ id: 'a', body: JSON.stringify(rows[0]) }]);
      await results.until(() => results.messages.length >= 1);
      expect(await consumer.stop('SIGTERM')).toBe(0);

      const input = await jsm.streams.info(existing);
      expect([input.config.storage, input.config.subjects]).toEqual([StorageType.Memory, [`rows.${name}.>`]]);
      const created = await jsm.streams.info(await streamOf(jsm, output));
      expect([created.config.name, created.config.storage, created.config.duplicate_window]).toEqual([
        `grove-predictions_${name}`,
        StorageType.File,
        nanos(60_000),
      ]);
      expect(consumer.stderr()).not.toMatch(/"event":"stream_created","stream":"grove-rows/);
    }, 180_000);

    it('refuses a durable consumer that reads another subject', async () => {
      const { jsm } = suite;
      const name = uniqueName('setup');
      await jsm.streams.add({ name: `in_${name}`, subjects: [`rows.${name}.>`] });
      await jsm.consumers.add(`in_${name}`, {
        durable_name: name,
        ack_policy: AckPolicy.Explicit,
        filter_subject: `rows.${name}.other`,
      });
      // Not spawnSync: the test's own nats-server pipes its log to this process.
      const child = spawn(
        process.execPath,
        [
          join(ROOT, 'dist', 'cli', 'grove.js'),
          'stream',
          ...streamArgs(suite.url, suite.repo, name, [], `rows.${name}.eu`),
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      const status = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      const r = { status, stderr };
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/reads 'rows\.\S+\.other', not --subject .* \(GROVE_ERR_STREAM_CONFIG\)/);
    }, 180_000);
  },
);
