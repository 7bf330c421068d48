import { describe, expect, it } from 'vitest';
import { CompiledSplit, parseSplit } from '../gateway/split/split-config.js';
import { ModelNotFoundError, UnavailableError } from '../shared/errors/grove-error.js';
import { LoadedVersion, VersionSlot } from '../worker/repository/loaded-version.js';
import { ModelEntry } from '../worker/repository/model-repository.js';
import { fakeVersion } from '../worker/testing/fake-version.js';
import { VersionRouter } from './version-router.js';

function versionOf(v: string): LoadedVersion {
  const f = fakeVersion(2);
  return new LoadedVersion({
    name: 'm',
    version: v,
    dir: f.dir,
    file: f.file,
    sha256: f.sha256,
    fingerprint: f.fingerprint,
    model: f.model,
    config: {},
    featureNames: f.featureNames,
    key: `m/${v}/1`,
  });
}

/** A repository view holding model "m" with the given READY versions and config.json object. */
function repoWith(versions: string[], config: Record<string, unknown> = {}) {
  const entry = new ModelEntry('m', '/nowhere/m');
  entry.config = { raw: config, features: null, policy: { kind: 'all' } };
  for (const v of versions) {
    const slot = new VersionSlot('m', v, `/nowhere/m/${v}`);
    slot.serving = versionOf(v);
    slot.state = 'READY';
    entry.slots.set(v, slot);
  }
  entry.recomputeLatest();
  const models = new Map([['m', entry]]);
  return {
    entry,
    models,
    resolve(name: string, version: string | undefined): LoadedVersion {
      const e = models.get(name);
      if (!e) throw new ModelNotFoundError(name);
      const s = version === undefined ? null : e.slots.get(version);
      const v = version === undefined ? e.latest : (s?.serving ?? null);
      if (!v) throw new UnavailableError('none', 'GROVE_ERR_VERSION_UNAVAILABLE');
      return v;
    },
  };
}

describe('VersionRouter', () => {
  it('without a split rows go to the latest version; --version pins one', () => {
    const repo = repoWith(['1', '2']);
    expect(new VersionRouter({ repository: repo, model: 'm' }).pick(undefined).version).toBe('2');
    expect(new VersionRouter({ repository: repo, model: 'm', version: '1' }).pick('k').version).toBe('1');
    expect(() => new VersionRouter({ repository: repo, model: 'nope' }).pick(undefined)).toThrow(
      ModelNotFoundError,
    );
  });

  it("follows config.json's split with the gateway's draw and the gateway's sticky buckets", () => {
    const split = { weights: { '1': 70, '2': 30 }, sticky: 'user' };
    const repo = repoWith(['1', '2'], { split });
    const gateway = new CompiledSplit(parseSplit(split, null));
    let r = 0;
    const rng = () => r;
    const router = new VersionRouter({ repository: repo, model: 'm', rng });
    expect(router.stickyName()).toBe('user');
    r = 0.69;
    expect(router.pick(undefined).version).toBe('1');
    r = 0.71;
    expect(router.pick(undefined).version).toBe('2');
    let toTwo = 0;
    for (let u = 0; u < 2000; u++) {
      const key = `user-${u}`;
      const got = router.pick(key).version;
      expect(got).toBe(gateway.choose(key, rng, () => true));
      expect(router.pick(key).version).toBe(got);
      if (got === '2') toTwo++;
    }
    // Shares follow the weights (30% of 2000 keys, within a few standard deviations).
    expect(Math.abs(toTwo - 600)).toBeLessThan(90);
  });

  it('skips a split version that is not READY, and re-reads the split when config.json changes', () => {
    const repo = repoWith(['1', '2'], { split: { weights: { '1': 0, '2': 100 } } });
    const router = new VersionRouter({ repository: repo, model: 'm', rng: () => 0.5 });
    expect(router.pick(undefined).version).toBe('2');
    repo.entry.slots.get('2')!.state = 'UNLOADING';
    expect(router.pick(undefined).version).toBe('2'); // no other weighted version: latest
    repo.entry.slots.get('2')!.state = 'READY';
    repo.entry.config = { ...repo.entry.config, raw: { split: { weights: { '1': 100 } } } };
    expect(router.pick(undefined).version).toBe('1');
    repo.entry.config = { ...repo.entry.config, raw: { split: { weights: { '1': -1 } } } };
    expect(router.pick(undefined).version).toBe('2'); // invalid split: ignored
  });

  it('--sticky-field overrides the split sticky name; a pinned version has none', () => {
    const repo = repoWith(['1', '2'], { split: { weights: { '1': 50, '2': 50 }, sticky: 'x-user-id' } });
    expect(new VersionRouter({ repository: repo, model: 'm', stickyField: 'customer' }).stickyName()).toBe(
      'customer',
    );
    expect(new VersionRouter({ repository: repo, model: 'm' }).stickyName()).toBe('x-user-id');
    expect(new VersionRouter({ repository: repo, model: 'm', version: '1' }).stickyName()).toBeUndefined();
  });
});
