import { describe, expect, it } from 'vitest';
import type { StoredPrediction } from './job-records.js';
import { KeyLookups } from './key-lookups.js';

/** A database stand-in whose statements finish only when the test says so. */
function heldRuns() {
  const calls: { model: string; keys: string[]; finish: (ok: boolean) => void }[] = [];
  const run = (model: string, keys: readonly string[]) =>
    new Promise<(StoredPrediction | null)[]>((resolve, reject) => {
      calls.push({
        model,
        keys: [...keys],
        finish: (ok) =>
          ok
            ? resolve(keys.map((k) => (k.startsWith('miss') ? null : prediction(`${model}:${k}`))))
            : reject(new Error('connection lost')),
      });
    });
  return { calls, run };
}

function prediction(jobId: string): StoredPrediction {
  return { jobId, version: '1', outputNames: ['p'], outputs: [1], scoredAt: '2026-01-01T00:00:00.000Z' };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('KeyLookups', () => {
  it('sends a lookup at once, and the keys that arrive meanwhile together, per model', async () => {
    const { calls, run } = heldRuns();
    const kl = new KeyLookups(run, 1, 256);
    const first = kl.lookup('a', 'k1');
    expect(calls.map((c) => c.keys)).toEqual([['k1']]);
    const later = [kl.lookup('a', 'k2'), kl.lookup('b', 'x'), kl.lookup('a', 'miss'), kl.lookup('a', 'k2')];
    expect(calls).toHaveLength(1);
    calls[0]!.finish(true);
    expect((await first)?.jobId).toBe('a:k1');
    await settle();
    // Model a waited longest: its three keys (a repeated one answered twice) go in one statement.
    expect(calls.map((c) => [c.model, c.keys])).toEqual([
      ['a', ['k1']],
      ['a', ['k2', 'miss', 'k2']],
    ]);
    calls[1]!.finish(true);
    await settle();
    expect(calls[2]).toMatchObject({ model: 'b', keys: ['x'] });
    calls[2]!.finish(true);
    const got = await Promise.all(later);
    expect(got.map((p) => p?.jobId ?? null)).toEqual(['a:k2', 'b:x', null, 'a:k2']);
  });

  it('keeps at most maxInFlight statements out and at most maxKeys keys in one', async () => {
    const { calls, run } = heldRuns();
    const kl = new KeyLookups(run, 2, 3);
    const all = Array.from({ length: 9 }, (_, i) => kl.lookup('m', `k${i}`));
    expect(calls.map((c) => c.keys)).toEqual([['k0'], ['k1']]);
    calls[0]!.finish(true);
    await settle();
    expect(calls.map((c) => c.keys.length)).toEqual([1, 1, 3]);
    calls[1]!.finish(true);
    await settle();
    expect(calls.map((c) => c.keys.length)).toEqual([1, 1, 3, 3]);
    for (const c of calls.slice(2)) c.finish(true);
    await settle();
    expect(calls.map((c) => c.keys.length)).toEqual([1, 1, 3, 3, 1]);
    calls[4]!.finish(true);
    expect((await Promise.all(all)).map((p) => p?.jobId)).toEqual(
      Array.from({ length: 9 }, (_, i) => `m:k${i}`),
    );
  });

  it('a model with more than maxKeys waiting takes turns with the others', async () => {
    const { calls, run } = heldRuns();
    const kl = new KeyLookups(run, 1, 2);
    const all = [...['k0', 'k1', 'k2', 'k3', 'k4', 'k5'].map((k) => kl.lookup('a', k)), kl.lookup('b', 'x')];
    for (let i = 0; i < 5; i++) {
      calls[i]!.finish(true);
      await settle();
    }
    expect(calls.map((c) => `${c.model}:${c.keys.join(',')}`)).toEqual([
      'a:k0',
      'a:k1,k2',
      'b:x',
      'a:k3,k4',
      'a:k5',
    ]);
    expect((await Promise.all(all)).map((p) => p?.jobId)).toEqual([
      'a:k0',
      'a:k1',
      'a:k2',
      'a:k3',
      'a:k4',
      'a:k5',
      'b:x',
    ]);
  });

  it('a failed statement fails its own lookups only, and the next ones still go', async () => {
    const { calls, run } = heldRuns();
    const kl = new KeyLookups(run, 1, 256);
    const a = kl.lookup('m', 'a');
    const b = [kl.lookup('m', 'b'), kl.lookup('m', 'c')];
    calls[0]!.finish(false);
    await expect(a).rejects.toThrow('connection lost');
    await settle();
    calls[1]!.finish(false);
    for (const p of b) await expect(p).rejects.toThrow('connection lost');
    const c = kl.lookup('m', 'd');
    calls[2]!.finish(true);
    expect((await c)?.jobId).toBe('m:d');
  });
});
