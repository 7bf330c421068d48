// grove stream on a real nats-server: a version folder that appears mid-stream is loaded and
// swapped in (results then name it and carry its predictions), and config.json's split routes
// rows sticky by a row field exactly as the gateway's split decides, recorded in every result.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CompiledSplit, parseSplit } from '../../gateway/split/split-config.js';
import { firstMismatch } from '../../shared/runtime/fixtures.test-helper.js';
import { natsAvailable, skipReason } from '../support/services.js';
import {
  Collector,
  publishRows,
  startStream,
  streamArgs,
  streamSuite,
  uniqueName,
} from './stream-harness.js';
import { addVersion, fixtureRows, makeRepository, removeRepository } from './worker-harness.js';

const hasNats = natsAvailable();
const XGB = 'xgboost/xgb-binary-100x4';
const LGB = 'lightgbm/lgb-binary-100x4'; // the same 20 features and test rows, another library

describe.skipIf(!hasNats)(
  hasNats ? 'grove stream: versions' : skipReason('nats-server', 'nats-server'),
  () => {
    // Each test makes its own repository (removed after all); the suite only connects.
    const suite = streamSuite();
    const repos: string[] = [];
    afterAll(() => {
      for (const r of repos) removeRepository(r);
    });
    const xgb = fixtureRows(XGB);
    const lgb = fixtureRows(LGB);

    /** Rescans the repository every 200 ms, so a new version folder is found soon. */
    const rescanArgs = (repo: string, name: string, extra: string[] = []) =>
      streamArgs(suite.url, repo, name, ['--rescan', '200', ...extra]);

    it('a new version folder appearing mid-stream is swapped in; later results name it', async () => {
      const repo = makeRepository({ churn: { '1': XGB } });
      repos.push(repo);
      const { nc } = suite;
      const name = uniqueName('swap');
      const results = new Collector(nc, `predictions.${name}`);
      const consumer = await startStream(rescanArgs(repo, name));
      const batch = (from: number, to: number) =>
        xgb.rows.slice(from, to).map((r, j) => ({ id: `r-${from + j}`, body: JSON.stringify(r) }));

      await publishRows(nc, `rows.${name}`, batch(0, 100));
      await results.until(() => results.messages.length >= 100);
      // Rows keep flowing while version 2 arrives: copied under a hidden name, then renamed, so the
      // repository never sees half a file.
      const flowing = (async () => {
        for (let from = 100; from < 1000; from += 100)
          await publishRows(nc, `rows.${name}`, batch(from, from + 100));
      })();
      const incoming = join(repo, 'churn', '.2-incoming');
      mkdirSync(incoming, { recursive: true });
      addVersion(repo, 'churn', '.2-incoming', LGB);
      renameSync(incoming, join(repo, 'churn', '2'));
      await consumer.waitForLog(/"event":"model_loaded","model":"churn","version":"2"/);
      await flowing;
      await publishRows(nc, `rows.${name}`, batch(1000, 1100));
      await results.until(() => new Set(results.bodies().map((b) => b.id)).size >= 1100);
      expect(await consumer.stop('SIGTERM')).toBe(0);

      // Every result carries the prediction of the version it names; before the swap that is 1,
      // after the new version was loaded it is 2.
      const byId = new Map(results.bodies().map((b) => [b.id, b]));
      const seen = new Set<string>();
      for (let i = 0; i < 1100; i++) {
        const b = byId.get(`r-${i}`)!;
        expect(b).toBeDefined();
        const want = (b.model_version === '1' ? xgb : lgb).pred[i]![0]!;
        expect(firstMismatch(new Float64Array([b.prediction]), new Float64Array([want]))).toBeNull();
        if (i < 100) expect(b.model_version).toBe('1');
        if (i >= 1000) expect(b.model_version).toBe('2');
        seen.add(b.model_version);
      }
      expect(seen).toEqual(new Set(['1', '2']));
    }, 180_000);

    it("routes rows by config.json's split, sticky on a row field, as the gateway would", async () => {
      const split = { weights: { '1': 50, '2': 50 } };
      const repo = makeRepository({ churn: { '1': XGB, '2': LGB } });
      repos.push(repo);
      writeFileSync(join(repo, 'churn', 'config.json'), JSON.stringify({ split }));
      const { nc } = suite;
      const name = uniqueName('split');
      const results = new Collector(nc, `predictions.${name}`);
      const consumer = await startStream(
        rescanArgs(repo, name, ['--sticky-field', 'user', '--log-level', 'warn']),
      );
      const n = 200;
      // Named rows carrying the user; the same user twice must land on the same version.
      const named = (i: number) => {
        const o: Record<string, unknown> = { user: `user-${i % 100}` };
        xgb.header.forEach((f, j) => {
          if (xgb.rows[i]![j] !== null) o[f] = xgb.rows[i]![j];
        });
        return JSON.stringify(o);
      };
      await publishRows(
        nc,
        `rows.${name}`,
        [...Array(n).keys()].map((i) => ({ id: `s-${i}`, body: named(i) })),
      );
      await results.until(() => results.messages.length >= n);
      expect(await consumer.stop('SIGTERM')).toBe(0);

      const gateway = new CompiledSplit(parseSplit(split, null));
      const versions = new Set<string>();
      for (const b of results.bodies()) {
        const i = Number(b.id.slice(2));
        const want = gateway.choose(`user-${i % 100}`, Math.random, () => true);
        expect({ id: b.id, version: b.model_version }).toEqual({ id: b.id, version: want });
        const p = (want === '1' ? xgb : lgb).pred[i]![0]!;
        expect(firstMismatch(new Float64Array([b.prediction]), new Float64Array([p]))).toBeNull();
        versions.add(b.model_version);
      }
      expect(versions).toEqual(new Set(['1', '2']));
    }, 180_000);
  },
);
