import { describe, expect, it } from 'vitest';
import { GroveError } from '../shared/errors/grove-error.js';
import { checkId, decodeRow, stripMeta } from './stream-row.js';
import { MemoryMessage } from './testing/memory-engine.js';

function msg(body: string | Uint8Array, id: string | null = 'r1', headers: Record<string, string> = {}) {
  return new MemoryMessage(typeof body === 'string' ? Buffer.from(body) : body, id, 1, 's:1', headers);
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(GroveError);
    return (err as GroveError).code;
  }
  return 'no error';
}

describe('decodeRow', () => {
  it('takes an array row or a named row, the id from the header first, else the id field', () => {
    expect(decodeRow(msg('[1, null, 2]'), 1024, undefined)).toEqual({
      id: 'r1',
      row: [1, null, 2],
      sticky: undefined,
    });
    expect(decodeRow(msg('{"id": "x7", "f0": 1}', null), 1024, undefined)).toEqual({
      id: 'x7',
      row: { id: 'x7', f0: 1 },
      sticky: undefined,
    });
    expect(decodeRow(msg('{"id": 42}', null), 1024, undefined).id).toBe('42');
    expect(decodeRow(msg('{"id": "body"}', 'header'), 1024, undefined).id).toBe('header');
  });

  it('reads the sticky key from the row, else from the header of that name', () => {
    expect(decodeRow(msg('{"user": "alice", "f0": 1}'), 1024, 'user').sticky).toBe('alice');
    expect(decodeRow(msg('{"user": 17}'), 1024, 'user').sticky).toBe('17');
    expect(decodeRow(msg('[1, 2]', 'r', { user: 'bob' }), 1024, 'user').sticky).toBe('bob');
    expect(decodeRow(msg('{"user": {"x": 1}}'), 1024, 'user').sticky).toBeUndefined();
  });

  it('refuses a body over the limit before decoding it', () => {
    // Not JSON at all: the size check comes first, so the code says "too large", not "bad JSON".
    expect(codeOf(() => decodeRow(msg(new Uint8Array(2048).fill(0xff)), 1024, undefined))).toBe(
      'GROVE_ERR_BODY_TOO_LARGE',
    );
  });

  it('names each kind of hostile body with its code', () => {
    expect(codeOf(() => decodeRow(msg('not json'), 1024, undefined))).toBe('GROVE_ERR_BAD_JSON');
    expect(codeOf(() => decodeRow(msg(new Uint8Array([0xc3, 0x28, 0x5b])), 1024, undefined))).toBe(
      'GROVE_ERR_BAD_JSON',
    );
    expect(codeOf(() => decodeRow(msg(''), 1024, undefined))).toBe('GROVE_ERR_BAD_JSON');
    expect(codeOf(() => decodeRow(msg('"a string"'), 1024, undefined))).toBe('GROVE_ERR_BAD_INPUT');
    expect(codeOf(() => decodeRow(msg('null'), 1024, undefined))).toBe('GROVE_ERR_BAD_INPUT');
    expect(codeOf(() => decodeRow(msg('[1,2]', null), 1024, undefined))).toBe('GROVE_ERR_STREAM_NO_ID');
    expect(codeOf(() => decodeRow(msg('{"f0": 1}', null), 1024, undefined))).toBe('GROVE_ERR_STREAM_NO_ID');
    expect(codeOf(() => decodeRow(msg('{"id": {"$gt": ""}}', null), 1024, undefined))).toBe(
      'GROVE_ERR_STREAM_BAD_ID',
    );
    expect(codeOf(() => decodeRow(msg('{"id": 1.5}', null), 1024, undefined))).toBe(
      'GROVE_ERR_STREAM_BAD_ID',
    );
    expect(codeOf(() => decodeRow(msg('[]', 'x'.repeat(257)), 1024, undefined))).toBe(
      'GROVE_ERR_STREAM_BAD_ID',
    );
    // Deep nesting is a JSON error or a valid value, never a crash.
    const deep = '['.repeat(100_000);
    expect(codeOf(() => decodeRow(msg(deep), 1_000_000, undefined))).toBe('GROVE_ERR_BAD_JSON');
  });
});

describe('checkId', () => {
  it('keeps printable ids of 1..256 characters and refuses control characters', () => {
    expect(checkId('order-1/ä')).toBe('order-1/ä');
    expect(checkId('x'.repeat(256))).toHaveLength(256);
    expect(codeOf(() => checkId(''))).toBe('GROVE_ERR_STREAM_BAD_ID');
    expect(codeOf(() => checkId('a\r\nNats-Msg-Id: b'))).toBe('GROVE_ERR_STREAM_BAD_ID');
    expect(codeOf(() => checkId(2 ** 60))).toBe('GROVE_ERR_STREAM_BAD_ID');
  });
});

describe('stripMeta', () => {
  it('removes the id and sticky fields unless the model has features of those names', () => {
    const features = new Map([
      ['f0', 0],
      ['user', 1],
    ]);
    expect(stripMeta({ id: 'a', user: 'u', f0: 1 }, features, 'user')).toEqual({ user: 'u', f0: 1 });
    expect(stripMeta({ id: 'a', region: 'eu', f0: 1 }, features, 'region')).toEqual({ f0: 1 });
    expect(stripMeta([1, 2], features, 'user')).toEqual([1, 2]);
    expect(stripMeta({ id: 3, f0: 1 }, new Map([['id', 0]]), undefined)).toEqual({ id: 3, f0: 1 });
  });
});
