import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../../shared/errors/grove-error.js';
import { claimedChunk } from '../store/claimed-chunk.test-helper.js';
import type { ClaimedChunk } from '../store/job-store.js';
import { ChunkNotScored, RowRefused, scoreChunk } from './score-chunk.js';
import type { BatchAnswer, WorkerBatch } from './worker-batch.js';

/**
 * A worker as `:batch` behaves: rows are read in pieces of `piece`; the first piece holding a bad
 * row (one that is not a number) is refused, rows of the pieces before it are answered.
 */
function fakeWorker(piece: number, down = false) {
  const calls: number[] = [];
  const batch = {
    async call(
      _m: string,
      _v: string,
      _f: string,
      _h: string | null,
      rows: readonly string[],
    ): Promise<BatchAnswer> {
      calls.push(rows.length);
      if (down) return { kind: 'failed', error: new UnavailableError('no worker') };
      const bad = rows.findIndex((r) => Number.isNaN(Number(r)));
      if (bad < 0) return { kind: 'ok', values: rows.map((r) => String(Number(r) * 2)), outputNames: ['p'] };
      const good = Math.floor(bad / piece) * piece;
      return {
        kind: 'refused',
        values: rows.slice(0, good).map((r) => String(Number(r) * 2)),
        message: `value '${rows[bad]}' at CSV line ${bad + 2}, column 'x' is not a number`,
        code: 'GROVE_ERR_NOT_NUMERIC',
      };
    },
  };
  return { batch: batch as unknown as WorkerBatch, calls };
}

function chunk(rows: string[], extra: Partial<ClaimedChunk> = {}): ClaimedChunk {
  return claimedChunk({
    jobId: '3',
    firstRow: 101,
    rowCount: rows.length,
    body: rows.join('\n'),
    keys: rows.map((_, i) => `k${i}`),
    ...extra,
  });
}

const lines = (copy: string) =>
  copy
    .trimEnd()
    .split('\n')
    .map((l) => l.split('\t'));

describe('scoring a chunk', () => {
  it('scores every row in one call when the worker takes them all', async () => {
    const w = fakeWorker(4);
    const s = await scoreChunk(w.batch, chunk(['1', '2', '3']));
    expect(w.calls).toEqual([3]);
    expect(s).toMatchObject({ rows: 3, failed: 0, outputNames: ['p'] });
    expect(lines(s.copy)).toEqual([
      ['3', '101', 'k0', '{2}', '\\N', '\\N'],
      ['3', '102', 'k1', '{4}', '\\N', '\\N'],
      ['3', '103', 'k2', '{6}', '\\N', '\\N'],
    ]);
  });

  it('finds refused rows by halving, scores all the others, and numbers rows by the job', async () => {
    const rows = Array.from({ length: 64 }, (_, i) => String(i));
    rows[5] = 'x';
    rows[40] = 'y';
    rows[41] = 'z';
    const w = fakeWorker(8);
    const s = await scoreChunk(w.batch, chunk(rows));
    expect(s).toMatchObject({ rows: 64, failed: 3 });
    const got = lines(s.copy);
    expect(got.map((l) => l[1])).toEqual(rows.map((_, i) => String(101 + i)));
    for (const [i, l] of got.entries()) {
      if (i === 5 || i === 40 || i === 41) {
        expect(l[3]).toBe('\\N');
        expect(l[5]).toBe('GROVE_ERR_NOT_NUMERIC');
        expect(l[4]).toBe(`value '${rows[i]}' at column 'x' is not a number`); // the worker's own line number dropped
      } else expect(l[3]).toBe(`{${i * 2}}`);
    }
    // Bounded work: far fewer calls than rows, and rows answered before a refusal are not resent.
    expect(w.calls.length).toBeLessThan(30);
    expect(w.calls.reduce((a, b) => a + b, 0)).toBeLessThan(64 * 4);
  });

  it('with on_error=fail, the first refused row of the chunk fails it, named by its job row number', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => String(i));
    rows[13] = 'q';
    rows[17] = 'r';
    await expect(scoreChunk(fakeWorker(4).batch, chunk(rows, { onError: 'fail' }))).rejects.toThrow(
      new RowRefused("row 114: value 'q' at column 'x' is not a number", 'GROVE_ERR_NOT_NUMERIC'),
    );
  });

  it('rows refused at intake keep their places; the rest are scored', async () => {
    const s = await scoreChunk(
      fakeWorker(4).batch,
      chunk(['1', '2'], { rowCount: 4, skip: [0, 2], keys: ['a', 'b'] }),
    );
    expect(s).toMatchObject({ rows: 4, failed: 2 });
    expect(lines(s.copy).map((l) => [l[1], l[2], l[3]])).toEqual([
      ['102', 'a', '{2}'],
      ['104', 'b', '{4}'],
    ]);
  });

  it('a chunk no worker can take is not scored (it is retried later)', async () => {
    await expect(scoreChunk(fakeWorker(4, true).batch, chunk(['1']))).rejects.toBeInstanceOf(ChunkNotScored);
  });
});
