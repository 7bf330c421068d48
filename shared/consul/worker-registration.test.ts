import { describe, expect, it } from 'vitest';
import { decodeVersionsMeta, encodeVersionsMeta } from './worker-registration.js';

describe('versions meta', () => {
  it('round-trips and keeps every value within Consul limits (512 chars, keys [A-Za-z0-9_-])', () => {
    const live: Record<string, string[]> = {};
    for (let i = 0; i < 60; i++)
      live[`model-with-a-long-name-${i}`] = Array.from({ length: 12 }, (_, k) => String(k + 1));
    const meta = encodeVersionsMeta(live);
    expect(Object.keys(meta).length).toBeGreaterThan(3);
    expect(Object.keys(meta).length).toBeLessThanOrEqual(64);
    for (const [k, v] of Object.entries(meta)) {
      expect(k).toMatch(/^[A-Za-z0-9_-]{1,128}$/);
      expect(v.length).toBeLessThanOrEqual(512);
    }
    expect(decodeVersionsMeta(meta)).toEqual(live);
    expect(decodeVersionsMeta(encodeVersionsMeta({}))).toEqual({});
  });
  it('ignores malformed or foreign meta', () => {
    expect(decodeVersionsMeta({ grove_versions_n: '2', grove_versions_0: '{"a":' })).toEqual({});
    expect(decodeVersionsMeta({ other: 'x' })).toEqual({});
    expect(
      decodeVersionsMeta({ grove_versions_n: '1', grove_versions_0: '{"__proto__":["1"],"m":["2"]}' }).m,
    ).toEqual(['2']);
  });
});
