import { describe, expect, it } from 'vitest';
import { claimedChunk } from '../store/claimed-chunk.test-helper.js';
import type { ClaimedChunk } from '../store/job-store.js';
import { ChunkCutter, type CutterOptions, MAX_LINE_BYTES, type RawChunk } from './chunk-cutter.js';
import { readRawChunk } from './raw-chunk.js';

const CSV: CutterOptions = { header: true, chunkRows: 2, chunkBytes: 1 << 20 };

/** Feeds `input` in pieces of `step` bytes; the chunks and the cutter. */
function cut(input: Buffer, o: CutterOptions, step = input.length): { chunks: RawChunk[]; c: ChunkCutter } {
  const c = new ChunkCutter(o);
  const chunks: RawChunk[] = [];
  for (let i = 0; i < input.length; i += step) chunks.push(...c.push(input.subarray(i, i + step)));
  chunks.push(...c.end());
  return { chunks, c };
}

const text = (b: Buffer | string) => (typeof b === 'string' ? b : b.toString('utf8'));

describe('ChunkCutter', () => {
  it('cuts whole lines as uploaded, whatever the pieces the bytes arrive in', () => {
    const input = Buffer.from('\uFEFF\r\nid,a,b\r\n\r\nk1,1,2\r\nk2,ä😀,4\n\nk3,5,6\r\nk4,7,8', 'utf8');
    for (const step of [1, 2, 3, 7, input.length]) {
      const { chunks, c } = cut(input, CSV, step);
      expect(c.header).toBe('id,a,b');
      expect(c.rows).toBe(4);
      expect(c.chunks).toBe(2);
      expect(chunks.map((k) => [k.seq, k.firstRow, k.rowCount, k.skip])).toEqual([
        [0, 1, 2, null],
        [1, 3, 2, null],
      ]);
      // Blank lines after the header and between rows stay in the bytes; they are not rows.
      expect(chunks.map((k) => text(k.body)).join('')).toBe('\r\nk1,1,2\r\nk2,ä😀,4\n\nk3,5,6\r\nk4,7,8');
    }
  });

  it('cuts on bytes too, and NDJSON has no header', () => {
    const input = Buffer.from('{"a":1}\n{"a":2}\n{"a":3}\n');
    const { chunks, c } = cut(input, { header: false, chunkRows: 100, chunkBytes: 8 }, 5);
    expect(c.header).toBeNull();
    expect(chunks.map((k) => [k.firstRow, k.rowCount, text(k.body)])).toEqual([
      [1, 1, '{"a":1}\n'],
      [2, 1, '{"a":2}\n'],
      [3, 1, '{"a":3}\n'],
    ]);
  });

  it('refuses rows holding NUL (their place kept) and decodes invalid UTF-8 as a text decoder does', () => {
    const input = Buffer.concat([
      Buffer.from('h\nr1\nr\u00002\n\nr3\n'),
      Buffer.from([0x72, 0xff, 0x34, 0x0a]),
    ]);
    const { chunks } = cut(input, { header: true, chunkRows: 3, chunkBytes: 1 << 20 });
    expect(chunks[0]).toMatchObject({ firstRow: 1, rowCount: 3, skip: [1] });
    expect(chunks[0]!.refused).toEqual(['the row holds a NUL character']);
    expect(text(chunks[0]!.body)).toBe('r1\nr3\n');
    expect(chunks[1]).toMatchObject({ firstRow: 4, rowCount: 1, skip: null, body: 'r\uFFFD4\n' });
  });

  it('refuses a line longer than the workers take, before holding it all', () => {
    const c = new ChunkCutter(CSV);
    c.push(Buffer.from('h\n'));
    expect(() => c.push(Buffer.alloc(MAX_LINE_BYTES + 1, 0x61))).toThrow(/longer than 8 MiB/);
  });
});

function claimed(chunk: RawChunk, over: Partial<ClaimedChunk> = {}): ClaimedChunk {
  return claimedChunk({
    seq: chunk.seq,
    firstRow: chunk.firstRow,
    rowCount: chunk.rowCount,
    body: text(chunk.body),
    skip: chunk.skip,
    header: 'a,id,b',
    keyColumn: 'id',
    ...over,
  });
}

describe('readRawChunk', () => {
  const input = Buffer.from('a,id,b\r\n1,k1,2\r\n3,,4\r\n\r\n5,k\u00003,6\r\n7,"k,4",8\r\n');

  it('takes the key column out of the header and the rows; refused rows keep their numbers', () => {
    const { chunks } = cut(input, { header: true, chunkRows: 10, chunkBytes: 1 << 20 });
    expect(chunks).toHaveLength(1);
    const r = readRawChunk(claimed(chunks[0]!), 'id');
    expect(r.failure).toBeNull();
    expect(r.header).toBe('a,b');
    expect(r.lines).toEqual(['1,2', '7,8']);
    expect(r.chunk).toMatchObject({ firstRow: 1, rowCount: 4, keys: ['k1', 'k,4'], skip: [1, 2] });
    // The empty key is refused here; the NUL row was refused at upload and its error row is stored then.
    expect(r.chunk.errorRows).toBe("9\t2\t\\N\t\\N\tempty key in column 'id'\tGROVE_ERR_BAD_KEY\n");
  });

  it('with on_error=fail the first refused key is the failure', () => {
    const { chunks } = cut(input, { header: true, chunkRows: 10, chunkBytes: 1 << 20 });
    const r = readRawChunk(claimed(chunks[0]!, { onError: 'fail' }), 'id');
    expect(r.failure).toMatchObject({ code: 'GROVE_ERR_BAD_KEY' });
    expect(r.failure!.message).toMatch(/^row 2: empty key/);
  });

  it('without a key column the lines go as they are', () => {
    const { chunks } = cut(Buffer.from('a,b\n1,2\r\n\n3,4'), { header: true, chunkRows: 10, chunkBytes: 99 });
    const r = readRawChunk(claimed(chunks[0]!, { header: 'a,b', keyColumn: null }), null);
    expect(r.header).toBe('a,b');
    expect(r.lines).toEqual(['1,2', '3,4']);
    expect(r.chunk).toMatchObject({ rowCount: 2, keys: null, skip: null });
  });
});
