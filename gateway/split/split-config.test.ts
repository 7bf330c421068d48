import { describe, expect, it } from 'vitest';
import { CompiledSplit, parseSplit } from './split-config.js';

describe('parseSplit', () => {
  const exists = (v: string) => v === '1' || v === '2' || v === '3';
  it('accepts a valid split and normalises the sticky header', () => {
    const s = parseSplit(
      { weights: { '1': 90, '2': 10 }, sticky: 'X-User-Id', shadow: { version: '3', fraction: 0.1 } },
      exists,
    );
    expect({ ...s.weights }).toEqual({ '1': 90, '2': 10 });
    expect(s.sticky).toBe('x-user-id');
    expect(s.shadow).toEqual({ version: '3', fraction: 0.1 });
  });
  it.each([
    [{ weights: { '1': -1, '2': 10 } }],
    [{ weights: { '1': 0, '2': 0 } }],
    [{ weights: {} }],
    [{ weights: { '9': 10 } }],
    [{ weights: { '1': 'x' } }],
    [{ weights: { __proto__: 5 } }],
    [JSON.parse('{"weights":{"__proto__":5}}')],
    [{ weights: { '1': 1 }, shadow: { version: '9', fraction: 0.5 } }],
    [{ weights: { '1': 1 }, shadow: { version: '2', fraction: 2 } }],
    [{ weights: { '1': 1 }, sticky: 'bad header' }],
    [{ weights: { '1': 1 }, extra: 1 }],
    [null],
    [[1]],
  ])('rejects %j', (body) => {
    expect(() => parseSplit(body, exists)).toThrowError(expect.objectContaining({ statusCode: 400 }));
  });
});

describe('CompiledSplit.choose', () => {
  it('draws versions by cumulative weight (exact over the rng range)', () => {
    const s = new CompiledSplit(parseSplit({ weights: { '2': 10, '1': 90 } }, null));
    const counts: Record<string, number> = {};
    for (let k = 0; k < 1000; k++) {
      const v = s.choose(
        undefined,
        () => k / 1000,
        () => true,
      )!;
      counts[v] = (counts[v] ?? 0) + 1;
    }
    expect(counts).toEqual({ '1': 900, '2': 100 });
  });
  it('keeps a sticky key on one version and falls back when that version has no worker', () => {
    const s = new CompiledSplit(parseSplit({ weights: { '1': 50, '2': 50 }, sticky: 'x-user-id' }, null));
    const v = s.choose('alice', Math.random, () => true)!;
    for (let i = 0; i < 20; i++) expect(s.choose('alice', Math.random, () => true)).toBe(v);
    const other = v === '1' ? '2' : '1';
    expect(s.choose('alice', Math.random, (x) => x !== v)).toBe(other);
    expect(s.choose('alice', Math.random, () => false)).toBeUndefined();
  });
});
