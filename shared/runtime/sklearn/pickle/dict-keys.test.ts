import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DictKeys, TupleKey } from './dict-keys.js';
import { tuple } from './py-values.js';
import { unpickle } from './unpickler.js';

const HOSTILE = join(import.meta.dirname, '../../../../test/fixtures/hostile');

describe('dict and set keys', () => {
  it('equal tuples are one key, as in Python; different ones are not', () => {
    const k = new DictKeys();
    const a = k.key(tuple(['a', 1, tuple([2.5, null])]));
    expect(a).toBeInstanceOf(TupleKey);
    expect(k.key(tuple(['a', 1, tuple([2.5, null])]))).toBe(a);
    expect(k.key(tuple(['a', true, tuple([2.5, null])]))).toBe(a); // True == 1
    expect(k.key(tuple(['a', 2, tuple([2.5, null])]))).not.toBe(a);
    expect(k.key(tuple(['a', '1', tuple([2.5, null])]))).not.toBe(a);
    expect(k.key(tuple([new Uint8Array([1, 2])]))).toBe(k.key(tuple([new Uint8Array([1, 2])])));
    expect(k.key('plain')).toBe('plain');
  });

  it('a tuple holding the tuple below twice, 40 levels deep, is keyed without expanding 2^40 leaves', () => {
    const d = unpickle(new Uint8Array(readFileSync(join(HOSTILE, 'pickle-tuple-keys-40deep.pkl'))));
    expect(d).toBeInstanceOf(Map);
    const keys = [...(d as Map<unknown, unknown>).keys()];
    expect(keys).toHaveLength(1);
    expect(keys[0]).toBeInstanceOf(TupleKey);
  });

  it('a key nested 100 000 deep is keyed without recursion', () => {
    const d = unpickle(new Uint8Array(readFileSync(join(HOSTILE, 'pickle-deep-tuple-key.pkl'))));
    expect([...(d as Map<unknown, unknown>).keys()][0]).toBeInstanceOf(TupleKey);
  });
});
