import { describe, expect, it } from 'vitest';
import { Chunker, type ChunkerOptions } from './chunker.js';
import { takeCsvKey } from './csv-rows.js';
import { LineSplitter, MAX_LINE_CHARS } from './line-splitter.js';
import { takeNdjsonKey } from './row-key.js';

const CSV: ChunkerOptions = {
  jobId: '7',
  format: 'csv',
  keyColumn: 'id',
  keyIndex: 1,
  onError: 'skip',
  chunkRows: 3,
  chunkChars: 1 << 20,
};

describe('CSV keys', () => {
  it('takes the key column out wherever it is, quoted or not', () => {
    expect(takeCsvKey('k1,1,2', 0)).toEqual({ key: 'k1', rest: '1,2' });
    expect(takeCsvKey('1,k1,2', 1)).toEqual({ key: 'k1', rest: '1,2' });
    expect(takeCsvKey('1,2,k1', 2)).toEqual({ key: 'k1', rest: '1,2' });
    expect(takeCsvKey('1,"a,""b""",2', 1)).toEqual({ key: 'a,"b"', rest: '1,2' });
    expect(takeCsvKey('"x,y",k,2', 1)).toEqual({ key: 'k', rest: '"x,y",2' });
    expect(takeCsvKey('1,,2', 1)).toEqual({ key: '', rest: '1,2' });
    expect(takeCsvKey('1', 1)).toBeNull();
    expect(takeCsvKey('1,"2"', 2)).toBeNull();
  });

  it('takes NDJSON keys that are strings or numbers; anything else is a problem', () => {
    expect(takeNdjsonKey('{"id":7,"f0":1}', 'id')).toEqual({ key: '7', rest: '{"f0":1}' });
    expect(takeNdjsonKey('{"f0":1,"id":"a\\tb"}', 'id')).toEqual({ key: 'a\tb', rest: '{"f0":1}' });
    expect(takeNdjsonKey('{"f0":1}', 'id')).toBe("no key field 'id'");
    expect(takeNdjsonKey('{"id":null}', 'id')).toBe("no key field 'id'");
    expect(takeNdjsonKey('{"id":[1]}', 'id')).toMatch(/string or a number/);
    expect(takeNdjsonKey('[1,2]', 'id')).toMatch(/object/);
    expect(takeNdjsonKey('{"__proto__":1}', '__proto__')).toEqual({ key: '1', rest: '{}' });
    expect(takeNdjsonKey('nope', 'id')).toBe('not valid JSON');
  });
});

describe('Chunker', () => {
  it('cuts chunks by rows, numbers rows from 1 and skips blank lines', () => {
    const c = new Chunker(CSV);
    expect(c.add('1,a,2')).toBe(false);
    expect(c.add('')).toBe(false);
    expect(c.add('3,b,4')).toBe(false);
    expect(c.add('5,c,6')).toBe(true);
    expect(c.take()).toEqual({
      seq: 0,
      firstRow: 1,
      rowCount: 3,
      body: '1,2\n3,4\n5,6',
      keys: ['a', 'b', 'c'],
      skip: null,
      errorRows: '',
    });
    c.add('7,d,8');
    expect(c.take()).toMatchObject({ seq: 1, firstRow: 4, rowCount: 1, keys: ['d'] });
    expect(c.take()).toBeNull();
    expect(c.rows).toBe(4);
    expect(c.chunks).toBe(2);
  });

  it('cuts chunks by characters too', () => {
    const c = new Chunker({ ...CSV, keyColumn: null, chunkRows: 100, chunkChars: 8 });
    expect(c.add('1,2,3')).toBe(false);
    expect(c.add('4,5,6')).toBe(true);
    expect(c.take()).toMatchObject({ rowCount: 2, body: '1,2,3\n4,5,6', keys: null });
  });

  it('with on_error=skip, a row without a usable key becomes an error row of its chunk', () => {
    const c = new Chunker(CSV);
    c.add('1,a,2');
    c.add('1');
    c.add('1, ,2');
    const chunk = c.take()!;
    expect(chunk).toMatchObject({ rowCount: 3, body: '1,2', keys: ['a'], skip: [1, 2] });
    expect(chunk.errorRows).toBe(
      "7\t2\t\\N\t\\N\tno field for key column 'id'\tGROVE_ERR_BAD_KEY\n" +
        "7\t3\t\\N\t\\N\tempty key in column 'id'\tGROVE_ERR_BAD_KEY\n",
    );
    expect(c.failure).toBeNull();
  });

  it('with on_error=fail, the first such row is the failure, named by its row number', () => {
    const c = new Chunker({ ...CSV, onError: 'fail' });
    c.add('1,a,2');
    c.add('1,' + 'k'.repeat(1025) + ',2');
    c.add('1');
    expect(c.failure).toEqual({
      row: 2,
      message: "row 2: key in column 'id' is longer than 1024 characters",
      code: 'GROVE_ERR_BAD_KEY',
    });
  });

  it('refuses keys holding NUL, which PostgreSQL text cannot store', () => {
    const c = new Chunker({ ...CSV, format: 'ndjson', keyIndex: -1 });
    c.add('{"id":"a\\u0000b","f0":1}');
    expect(c.take()!.errorRows).toMatch(/NUL/);
  });
});

describe('LineSplitter', () => {
  it('splits on LF and CRLF across buffers, decodes UTF-8 split between buffers, drops a BOM', () => {
    const s = new LineSplitter();
    const bytes = Buffer.from('\uFEFFid,x\r\nä😀,1\nlast');
    const out: string[] = [];
    for (let i = 0; i < bytes.length; i++) out.push(...s.push(bytes.subarray(i, i + 1)));
    out.push(...s.end());
    expect(out).toEqual(['id,x', 'ä😀,1', 'last']);
  });

  it('refuses a line longer than the workers take before holding more of it', () => {
    const s = new LineSplitter();
    expect(() => s.push(Buffer.alloc(MAX_LINE_CHARS + 1, 0x31))).toThrow(/longer than 8 MiB/);
  });
});
