import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../../shared/errors/grove-error.js';
import { claimedChunk } from '../store/claimed-chunk.test-helper.js';
import type { ClaimedChunk } from '../store/job-store.js';
import { fakeBatch } from './fake-batch.test-helper.js';
import { ChunkNotScored, RowRefused, scoreChunk, scoreStoredChunk } from './score-chunk.js';
import type { BatchAnswer } from './worker-batch.js';

/**
 * A worker as `:batch` behaves: rows are read in pieces of `piece`; the first piece holding a bad
 * row (one that is not a number) is refused, rows of the pieces before it are answered.
 */
function fakeWorker(piece: number, down = false) {
  const f = fakeBatch((rows): BatchAnswer => {
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
  });
  return {
    batch: f.batch,
    get calls() {
      return f.calls.map((c) => c.rows.length);
    },
    log: f.calls,
  };
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

describe('scoring a stored raw chunk (the uploaded lines)', () => {
  // As uploaded: the key column second, CRLF line ends, a blank line, no final line end.
  const header = 'x,id';
  const uploaded = '1,a\r\n2, b \r\n\r\n3,c';
  const raw = (body: string, extra: Partial<ClaimedChunk> = {}) =>
    claimedChunk({ jobId: '3', firstRow: 101, rowCount: 3, header, keyColumn: 'id', body, ...extra });
  const expected = [
    ['3', '101', 'a', '{2}', '\\N', '\\N'],
    ['3', '102', 'b', '{4}', '\\N', '\\N'],
    ['3', '103', 'c', '{6}', '\\N', '\\N'],
  ];

  it('sends its bytes as they came, the key column named by exclude, and takes the keys out here', async () => {
    const w = fakeWorker(4);
    const s = await scoreStoredChunk(w.batch, raw(''), Buffer.from(uploaded));
    expect(lines(s.copy)).toEqual(expected);
    expect(w.log).toEqual([
      { way: 'callBody', rows: ['1', '2', '3'], body: `${header}\n${uploaded}\n`, exclude: 'id' },
    ]);
    // The same chunk read back from the database (text) goes the same way.
    const fromDb = fakeWorker(4);
    expect(lines((await scoreStoredChunk(fromDb.batch, raw(uploaded))).copy)).toEqual(expected);
    expect(fromDb.log.map((c) => c.way)).toEqual(['callBody']);
  });

  it('finds refused rows by halving on the bytes too', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => `${i === 7 ? 'bad' : i},k${i}`);
    const w = fakeWorker(8);
    const s = await scoreStoredChunk(w.batch, raw('', { rowCount: 40 }), Buffer.from(rows.join('\n')));
    expect(s).toMatchObject({ rows: 40, failed: 1 });
    const got = lines(s.copy);
    expect(got.map((l) => l[2])).toEqual(rows.map((_, i) => `k${i}`));
    expect(got[7]![5]).toBe('GROVE_ERR_NOT_NUMERIC');
    expect(w.log.every((c) => c.way === 'callBody')).toBe(true);
  });

  it('goes the text way, with the same rows and keys, for what only it reads: quotes, bad keys, rows without a key', async () => {
    const quoted = fakeWorker(4);
    const q = await scoreStoredChunk(quoted.batch, raw(''), Buffer.from('1,"a"\n2,b\n3,c\n'));
    expect(lines(q.copy)).toEqual(
      expected.map((l, i) => (i === 1 ? [...l.slice(0, 2), 'b', ...l.slice(3)] : l)),
    );
    expect(quoted.log.map((c) => c.way)).toEqual(['call']);

    const empty = fakeWorker(4);
    const e = await scoreStoredChunk(empty.batch, raw(''), Buffer.from('1,a\n2, \n3,c\n'));
    expect(e).toMatchObject({ rows: 3, failed: 1 });
    expect(lines(e.copy).map((l) => [l[1], l[2], l[5]])).toEqual([
      ['101', 'a', '\\N'],
      ['103', 'c', '\\N'],
      ['102', '\\N', 'GROVE_ERR_BAD_KEY'],
    ]);
    expect(empty.log.map((c) => c.way)).toEqual(['call']);

    await expect(
      scoreStoredChunk(fakeWorker(4).batch, raw('', { onError: 'fail' }), Buffer.from('1,a\n2\n3,c\n')),
    ).rejects.toThrow(new RowRefused("row 102: no field for key column 'id'", 'GROVE_ERR_BAD_KEY'));
  });
});
