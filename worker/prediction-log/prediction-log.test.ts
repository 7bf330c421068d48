import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PredictionEvent } from '../observer.js';
import { PredictionLog } from './prediction-log.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'grove-plog-'));
  dirs.push(d);
  return d;
}
function event(i: number): PredictionEvent {
  return {
    requestId: `req-${i}`,
    requestIds: null,
    model: 'churn',
    version: '2',
    sha256: 'ab'.repeat(32),
    input: Float64Array.from([i, Number.NaN, 0.5]),
    namedRows: null,
    rows: 1,
    numFeatures: 3,
    output: Float64Array.from([i / 1000]),
    numOutputs: 1,
    raw: false,
    at: 1_700_000_000_000 + i,
  };
}
function readAll(dir: string): Array<Record<string, any>> {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n').filter(Boolean))
    .map((l) => JSON.parse(l));
}

describe('PredictionLog', () => {
  it('splits a call the gateway merged into one record per client request id', async () => {
    const dir = tmp();
    const log = new PredictionLog({ dir });
    // Three clients' rows merged in one call: a (1 row), b,c (2 rows), d (1 row).
    log.observe({
      ...event(0),
      requestId: 'a',
      requestIds: [
        { id: 'a', rows: 1 },
        { id: 'b,c', rows: 2 },
        { id: 'd', rows: 1 },
      ],
      input: Float64Array.from([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]),
      rows: 4,
      output: Float64Array.from([0.1, 0.2, 0.3, 0.4]),
    });
    await log.close();
    const recs = readAll(dir);
    expect(recs.map((r) => [r.id, r.inputs, r.outputs])).toEqual([
      ['a', [[1, 1, 1]], [[0.1]]],
      [
        'b,c',
        [
          [2, 2, 2],
          [3, 3, 3],
        ],
        [[0.2], [0.3]],
      ],
      ['d', [[4, 4, 4]], [[0.4]]],
    ]);
  });

  it('writes every record on close, with the traced fields', async () => {
    const dir = tmp();
    // flushBytes far above what is written: only close() can write these records.
    const log = new PredictionLog({ dir, flushBytes: 1 << 30, flushIntervalMs: 60_000 });
    for (let i = 0; i < 500; i++) log.observe(event(i));
    expect(readdirSync(dir).length).toBe(0);
    await log.close();
    const recs = readAll(dir);
    expect(recs.length).toBe(500);
    expect(recs[7]).toEqual({
      id: 'req-7',
      time: new Date(1_700_000_000_007).toISOString(),
      model: 'churn',
      version: '2',
      sha256: 'ab'.repeat(32),
      inputs: [[7, null, 0.5]],
      outputs: [[0.007]],
    });
  });

  it('rotates by size at record boundaries', async () => {
    const dir = tmp();
    const log = new PredictionLog({ dir, maxFileBytes: 2000, flushBytes: 1 });
    for (let i = 0; i < 200; i++) log.observe(event(i));
    await log.close();
    const files = readdirSync(dir);
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(2000);
      expect(text.endsWith('\n')).toBe(true);
    }
    expect(
      readAll(dir)
        .map((r) => r.id)
        .sort(),
    ).toEqual(Array.from({ length: 200 }, (_, i) => `req-${i}`).sort());
  });

  it('samples with the injected rng and drops (counted) when the buffer is full', async () => {
    const dir = tmp();
    let k = 0;
    const log = new PredictionLog({
      dir,
      sampleRate: 0.25,
      random: () => (k++ % 4) / 4,
      flushBytes: 1 << 30,
      flushIntervalMs: 60_000,
    });
    for (let i = 0; i < 100; i++) log.observe(event(i));
    expect(log.records).toBe(25);
    await log.close();
    expect(readAll(dir).length).toBe(25);

    const dir2 = tmp();
    const small = new PredictionLog({
      dir: dir2,
      maxBufferBytes: 1000,
      flushBytes: 1 << 30,
      flushIntervalMs: 60_000,
    });
    for (let i = 0; i < 100; i++) small.observe(event(i));
    expect(small.dropped).toBeGreaterThan(0);
    expect(small.records + small.dropped).toBe(100);
    await small.close();
    expect(readAll(dir2).length).toBe(small.records);
  });
});
