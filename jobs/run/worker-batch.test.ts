import { describe, expect, it } from 'vitest';
import { parseCsvAnswer, parseNdjsonAnswer } from './worker-batch.js';

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
