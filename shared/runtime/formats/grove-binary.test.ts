// grove's binary file: round trip (bytes and file), truncation, a flipped byte, a future version.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ChecksumError, ModelFormatError, TruncatedModelError } from '../../errors/grove-error.js';
import { FIXTURES, readCsv } from '../fixtures.test-helper.js';
import { loadModelFile } from '../load.js';
import { decodeGroveFile, encodeGroveFile, GROVE_HEADER_BYTES, readGroveFile } from './grove-binary.js';

const tmp = mkdtempSync(join(tmpdir(), 'grove-binary-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('grove binary file', async () => {
  const dir = join(FIXTURES, 'xgboost', 'xgb-multiclass');
  const model = await loadModelFile(join(dir, 'model.json'));
  const bytes = encodeGroveFile(model.buffer);

  it('round-trips the container bytes through memory and through a file', async () => {
    expect(Buffer.from(decodeGroveFile(bytes))).toEqual(Buffer.from(model.buffer));
    const path = join(tmp, 'm.grove');
    writeFileSync(path, bytes);
    const sab = await readGroveFile(path);
    expect(sab).toBeInstanceOf(SharedArrayBuffer);
    expect(Buffer.from(sab)).toEqual(Buffer.from(model.buffer));
    const again = await loadModelFile(path);
    const x = readCsv(join(dir, 'test.csv'), true);
    const a = new Float64Array(100 * 3);
    const b = new Float64Array(100 * 3);
    model.predict(x.data, 100, a);
    again.predict(x.data, 100, b);
    expect(b).toEqual(a);
    expect(again.meta.platform).toBe('grove');
    expect(again.meta.sourcePlatform).toBe('xgboost_json');
  });

  it('a truncated file is a TruncatedModelError, from memory and from disk', async () => {
    for (const cut of [10, GROVE_HEADER_BYTES + 5, bytes.length - 1]) {
      const part = bytes.subarray(0, cut);
      expect(() => decodeGroveFile(part)).toThrow(TruncatedModelError);
      const path = join(tmp, `cut-${cut}.grove`);
      writeFileSync(path, part);
      await expect(readGroveFile(path)).rejects.toThrow(TruncatedModelError);
      await expect(loadModelFile(path)).rejects.toMatchObject({ code: 'GROVE_ERR_MODEL_TRUNCATED' });
    }
  });

  it('a flipped payload byte is a ChecksumError', async () => {
    const bad = Uint8Array.from(bytes);
    bad[GROVE_HEADER_BYTES + 200]! ^= 0x01;
    expect(() => decodeGroveFile(bad)).toThrow(ChecksumError);
    const path = join(tmp, 'flipped.grove');
    writeFileSync(path, bad);
    await expect(loadModelFile(path)).rejects.toMatchObject({ code: 'GROVE_ERR_CHECKSUM' });
  });

  it('another file version or magic is refused with a typed error', () => {
    const v2 = Uint8Array.from(bytes);
    v2[6] = 2;
    expect(() => decodeGroveFile(v2)).toThrow(/version 2/);
    const notGrove = Uint8Array.from(bytes);
    notGrove[0] = 0x58;
    expect(() => decodeGroveFile(notGrove)).toThrow(ModelFormatError);
  });
});
