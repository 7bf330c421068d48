import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildProfile } from '../../shared/profile/build-profile.js';
import type { PredictionEvent } from '../observer.js';
import { type MonitoredVersion, MonitorHub } from './monitor-hub.js';
import type { AlarmTransition } from './version-monitor.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(config: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'grove-hub-'));
  dirs.push(dir);
  const info: MonitoredVersion = {
    model: 'm',
    version: '1',
    sha256: 'aa',
    dir,
    featureNames: ['a', 'b'],
    task: 'regression',
    outputNames: ['prediction'],
    config,
  };
  const logs: string[] = [];
  const sent: AlarmTransition[] = [];
  const hub = new MonitorHub({
    resolve: (model, version) => (model === 'm' && version === '1' ? info : null),
    logger: { info: (_o, msg) => logs.push(msg), warn: (_o, msg) => logs.push(msg) },
    webhook: { send: (t: AlarmTransition) => sent.push(t), close: async () => {} } as never,
    intervalMs: 0,
    now: () => 1_700_000_000_000,
  });
  return { dir, info, hub, logs, sent };
}

function ev(a: number, b: number, sha = 'aa'): PredictionEvent {
  return {
    requestId: 'r',
    requestIds: null,
    model: 'm',
    version: '1',
    sha256: sha,
    input: Float64Array.of(a, b),
    namedRows: null,
    rows: 1,
    numFeatures: 2,
    output: Float64Array.of(a),
    numOutputs: 1,
    raw: false,
    at: 0,
  };
}

describe('MonitorHub', () => {
  it('alarms on missing values without a profile (zero baseline), logs and notifies each way', async () => {
    const { hub, logs, sent } = setup({ monitor: { window_rows: 100, min_rows: 50 } });
    for (let i = 0; i < 100; i++) hub.observe(ev(i, i % 2 ? Number.NaN : 1));
    hub.evaluateAll();
    expect(sent.map((t) => `${t.feature}:${t.kind}:${t.state}`)).toEqual(['b:missing:firing']);
    expect(sent[0]).toMatchObject({
      model: 'm',
      version: '1',
      value: 0.5,
      threshold: 0.2,
      at: '2023-11-14T22:13:20.000Z',
    });
    for (let i = 0; i < 100; i++) hub.observe(ev(i, 1));
    hub.evaluateAll();
    expect(sent.map((t) => t.state)).toEqual(['firing', 'resolved']);
    expect(logs).toEqual(['monitor alarm firing: missing on b', 'monitor alarm resolved: missing on b']);
    const m = hub.get('m', '1')!;
    expect((m.response() as any).features[1].psi).toBeNull(); // no profile: no drift
    await hub.close();
  });

  it('starts drift monitoring when a profile appears, and restarts the window on a new model file', () => {
    const { dir, hub } = setup();
    hub.observe(ev(1, 2));
    expect(hub.get('m', '1')!.hasProfile).toBe(false);
    const data = Float64Array.from({ length: 200 }, (_, i) => i);
    writeFileSync(
      join(dir, 'profile.json'),
      JSON.stringify(
        buildProfile({
          featureNames: ['a', 'b'],
          task: 'regression',
          outputNames: ['prediction'],
          data,
          rows: 100,
          predictions: data.subarray(0, 100),
        }),
      ),
    );
    hub.evaluateAll();
    expect(hub.get('m', '1')!.hasProfile).toBe(true);
    hub.observe(ev(3, 4));
    expect(hub.get('m', '1')!.snapshot().rows).toBe(1);
    expect(hub.get('m', '9')).toBeNull();
  });

  it('serves a version with a malformed profile, unwatched for drift', () => {
    const { dir, hub, logs } = setup();
    writeFileSync(join(dir, 'profile.json'), '{"format":"nope"}');
    hub.observe(ev(1, 2));
    expect(hub.get('m', '1')!.hasProfile).toBe(false);
    hub.evaluateAll(); // not re-read every tick
    expect(logs.filter((l) => l.includes('profile.json ignored')).length).toBe(1);
  });
});
