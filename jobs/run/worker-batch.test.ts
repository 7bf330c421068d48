import { describe, expect, it } from 'vitest';
import { batchBody, parseCsvAnswer, parseNdjsonAnswer } from './worker-batch.js';

describe("reading a worker's :batch answer", () => {
  it('CSV: output names from the header, one values line per row', () => {
    expect(parseCsvAnswer('class_0,class_1\n0.25,0.75\nNaN,-Infinity\n', 2)).toEqual({
      kind: 'ok',
      outputNames: ['class_0', 'class_1'],
      values: ['0.25,0.75', 'NaN,-Infinity'],
    });
    expect(parseCsvAnswer('prediction\n', 0)).toEqual({
      kind: 'ok',
      outputNames: ['prediction'],
      values: [],
    });
  });

  it('CSV: a mid-stream #error line keeps the rows before it', () => {
    expect(
      parseCsvAnswer(
        'prediction\n0.5\n#error,GROVE_ERR_NOT_NUMERIC,"CSV line 3: \'x\' is not a number"\n',
        3,
      ),
    ).toEqual({
      kind: 'refused',
      values: ['0.5'],
      message: "CSV line 3: 'x' is not a number",
      code: 'GROVE_ERR_NOT_NUMERIC',
    });
  });

  it('CSV: a wrong row count or a line that is not numbers is a failed call, never stored', () => {
    expect(parseCsvAnswer('prediction\n0.5\n', 2).kind).toBe('failed');
    expect(parseCsvAnswer('prediction\n0.5\t1\n', 1).kind).toBe('failed');
    expect(parseCsvAnswer('prediction\n1},{2\n', 1).kind).toBe('failed');
    expect(parseCsvAnswer('prediction\n0.5\\N\n', 1).kind).toBe('failed');
  });

  it('NDJSON: values in output-name order, null as NaN, a last error object as a refusal', () => {
    expect(parseNdjsonAnswer('{"a":1,"b":null}\n{"a":2,"b":3}\n', 2)).toEqual({
      kind: 'ok',
      outputNames: ['a', 'b'],
      values: ['1,NaN', '2,3'],
    });
    expect(
      parseNdjsonAnswer(
        '{"a":1}\n{"error":"NDJSON line 2 is not valid JSON","code":"GROVE_ERR_BAD_JSON"}\n',
        3,
      ),
    ).toEqual({
      kind: 'refused',
      values: ['1'],
      message: 'NDJSON line 2 is not valid JSON',
      code: 'GROVE_ERR_BAD_JSON',
    });
    expect(parseNdjsonAnswer('{"a":"1"}\n', 1).kind).toBe('failed');
    expect(parseNdjsonAnswer('nope\n', 1).kind).toBe('failed');
  });
});

describe("a worker's :batch body", () => {
  it('is the header line (CSV) and one line per row, as UTF-8', () => {
    expect(batchBody('a,b', ['1,2', '3,4']).toString('utf8')).toBe('a,b\n1,2\n3,4\n');
    expect(batchBody('a,"é"', ['1,"ü€"']).toString('utf8')).toBe('a,"é"\n1,"ü€"\n');
    expect(batchBody(null, ['{"a":"😀"}', '{"a":2}']).toString('utf8')).toBe('{"a":"😀"}\n{"a":2}\n');
    expect(batchBody('a', []).toString('utf8')).toBe('a\n');
    expect(batchBody(null, []).length).toBe(0);
  });

  it('keeps an unpaired surrogate as the replacement character, as Buffer.from does', () => {
    const row = 'x\ud800y';
    expect(batchBody('h', [row])).toEqual(Buffer.from(`h\n${row}\n`));
  });
});
