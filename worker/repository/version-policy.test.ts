import { describe, expect, it } from 'vitest';
import { GroveError } from '../../shared/errors/grove-error.js';
import { parseModelConfig } from './model-config.js';
import { liveByPolicy, parseVersionPolicy } from './version-policy.js';

describe('version policy', () => {
  it('keeps all, the latest N, or specific versions', () => {
    expect(liveByPolicy(parseVersionPolicy(undefined), [1, 3, 2])).toEqual([3, 2, 1]);
    expect(liveByPolicy(parseVersionPolicy({ latest: 2 }), [1, 3, 2])).toEqual([3, 2]);
    expect(liveByPolicy(parseVersionPolicy({ latest: { num_versions: 1 } }), [1, 3, 2])).toEqual([3]);
    expect(liveByPolicy(parseVersionPolicy({ specific: [1, '3'] }), [1, 3, 2])).toEqual([3, 1]);
    expect(liveByPolicy(parseVersionPolicy({ specific: { versions: [2] } }), [1, 3, 2])).toEqual([2]);
    expect(liveByPolicy(parseVersionPolicy({ all: {} }), [5])).toEqual([5]);
  });

  it('refuses malformed policies', () => {
    for (const p of [
      { latest: 0 },
      { latest: 'x' },
      { specific: 'x' },
      { specific: [-1] },
      'some',
      { other: 1 },
    ]) {
      expect(() => parseVersionPolicy(p), JSON.stringify(p)).toThrow(GroveError);
    }
  });
});

describe('config.json', () => {
  it('reads features and policy, keeps other keys, defaults without a file', () => {
    const c = parseModelConfig(
      '{"features":["age","plan"],"version_policy":{"latest":1},"default_split":{"1":100}}',
    );
    expect(c.features).toEqual(['age', 'plan']);
    expect(c.policy).toEqual({ kind: 'latest', count: 1 });
    expect(c.raw.default_split).toEqual({ '1': 100 });
    expect(parseModelConfig(null).policy.kind).toBe('all');
  });

  it('refuses broken config with GROVE_ERR_BAD_CONFIG', () => {
    for (const t of ['{', '[]', '{"features":"x"}', '{"features":["a","a"]}']) {
      try {
        parseModelConfig(t);
        throw new Error('no error');
      } catch (e) {
        expect((e as GroveError).code, t).toBe('GROVE_ERR_BAD_CONFIG');
      }
    }
  });
});
