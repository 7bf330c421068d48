import { describe, expect, it } from 'vitest';
import type { GroveError } from '../errors/grove-error.js';
import { forEachCsvRecord } from './csv-records.js';
import {
  type ByteRecordChunk,
  openCsv,
  openCsvBytes,
  type RecordChunk,
  recordByteChunks,
  recordChunks,
} from './csv-stream.js';

async function collect(
  chunks: AsyncIterable<RecordChunk> | Iterable<RecordChunk>,
): Promise<[string[], number][]> {
  const out: [string[], number][] = [];
  for await (const c of chunks) forEachCsvRecord(c.text, c.firstLine, (f, line) => out.push([f, line]));
  return out;
}

async function collectBytes(chunks: AsyncIterable<ByteRecordChunk>): Promise<[string[], number][]> {
  const text: RecordChunk[] = [];
  const buffers = new Set<ArrayBufferLike>();
  for await (const c of chunks) {
    text.push({ text: new TextDecoder().decode(c.bytes), firstLine: c.firstLine });
    // Each chunk alone in its buffer, as a reader that transfers it away (a pool thread) leaves it.
    expect(buffers.has(c.bytes.buffer)).toBe(false);
    buffers.add(c.bytes.buffer);
    structuredClone(c.bytes.buffer, { transfer: [c.bytes.buffer as ArrayBuffer] });
  }
  return collect(text);
}

async function* asAsync(parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* parts;
}

/** `text` as UTF-8 bytes cut every `step` bytes (so multi-byte characters are cut too). */
function pieces(text: string, step: number): Uint8Array[] {
  const bytes = Buffer.from(text);
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += step) out.push(bytes.subarray(i, i + step));
  return out;
}

async function failure(p: Promise<unknown>): Promise<GroveError> {
  try {
    await p;
  } catch (e) {
    return e as GroveError;
  }
  throw new Error('expected a failure');
}

describe('streaming CSV', () => {
  const text = '\uFEFFname,"note"\n\nα,"two\nlines, quoted"\r\nβ,""""\nγ,plain\n';
  const want: [string[], number][] = [
    [['α', 'two\nlines, quoted'], 3],
    [['β', '"'], 5],
    [['γ', 'plain'], 6],
  ];

  it('gives the same header, records and line numbers however the input is cut', async () => {
    for (const step of [1, 2, 3, 5, 7, 64]) {
      for (const chunkChars of [1, 4, 16, 1024]) {
        const csv = await openCsv(pieces(text, step), { chunkChars });
        expect(csv.header).toEqual(['name', 'note']);
        expect(await collect(csv.chunks)).toEqual(want);
      }
    }
  });

  it('cuts NDJSON at every line feed, quotes or not', async () => {
    const nd = '{"a":"x\\"y"}\n{"b":1}\n';
    const chunks: RecordChunk[] = [];
    for await (const c of recordChunks(pieces(nd, 3), false, { chunkChars: 1 })) chunks.push(c);
    expect(chunks).toEqual([
      { text: '{"a":"x\\"y"}\n', firstLine: 1 },
      { text: '{"b":1}\n', firstLine: 2 },
    ]);
  });

  it('refuses a record longer than the limit, and a stream without a header', async () => {
    const long = `a\n"${'x'.repeat(100)}`;
    const err = await failure(collect(recordChunks([long], true, { chunkChars: 8, maxRecordChars: 50 })));
    expect(err.code).toBe('GROVE_ERR_LINE_TOO_LONG');
    expect((await failure(openCsv(['', '\n\n']))).code).toBe('GROVE_ERR_BAD_CSV');
    const headerOnly = await openCsv(['a,b']);
    expect(headerOnly.header).toEqual(['a', 'b']);
    expect(await collect(headerOnly.chunks)).toEqual([]);
  });

  it('as bytes: the same header, records and line numbers however the input is cut', async () => {
    for (const step of [1, 2, 3, 5, 7, 64]) {
      for (const chunkChars of [1, 4, 16, 1024]) {
        const csv = await openCsvBytes(asAsync(pieces(text, step)), { chunkChars });
        expect(csv.header).toEqual(['name', 'note']);
        expect(await collectBytes(csv.chunks)).toEqual(want);
      }
    }
    const nd = '{"a":"x\\"y"}\n{"b":1}\n';
    const lines: ByteRecordChunk[] = [];
    for await (const c of recordByteChunks(asAsync(pieces(nd, 3)), false, { chunkChars: 1 })) lines.push(c);
    expect(lines.map((c) => [c.bytes.toString(), c.firstLine])).toEqual([
      ['{"a":"x\\"y"}\n', 1],
      ['{"b":1}\n', 2],
    ]);
  });

  it('as bytes: refuses a record longer than the limit, and a stream without a header', async () => {
    const long = Buffer.from(`a\n"${'x'.repeat(100)}`);
    const err = await failure(
      collectBytes(recordByteChunks(asAsync([long]), true, { chunkChars: 8, maxRecordChars: 50 })),
    );
    expect(err.code).toBe('GROVE_ERR_LINE_TOO_LONG');
    // Without a line feed in sight the bytes are not searched again, yet the limit still holds.
    const noBreak = await failure(
      collectBytes(
        recordByteChunks(asAsync(pieces('y'.repeat(200), 10)), true, { chunkChars: 8, maxRecordChars: 50 }),
      ),
    );
    expect(noBreak.code).toBe('GROVE_ERR_LINE_TOO_LONG');
    expect((await failure(openCsvBytes(asAsync([Buffer.from(''), Buffer.from('\n\n')])))).code).toBe(
      'GROVE_ERR_BAD_CSV',
    );
    const headerOnly = await openCsvBytes(asAsync([Buffer.from('a,b')]));
    expect(headerOnly.header).toEqual(['a', 'b']);
    expect(await collectBytes(headerOnly.chunks)).toEqual([]);
    const blankTail = await openCsvBytes(asAsync([Buffer.from('a\n1\n \u00a0\n')]));
    expect(await collectBytes(blankTail.chunks)).toEqual([
      [['1'], 2],
      [[' \u00a0'], 3],
    ]);
  });
});
