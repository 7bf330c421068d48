import { describe, expect, it } from 'vitest';
import {
  KIND_INFER,
  KIND_PREDICT,
  maxAbsDiff,
  mergeBody,
  parseInferRows,
  parsePredictRows,
  splitAnswer,
} from './predict-codec.js';

describe('predict coalescing codec', () => {
  it('merges :predict instances from several clients and splits the answer back', () => {
    const a = parsePredictRows('{ "instances" : [[1, 2.5, null]] }', 100)!;
    const b = parsePredictRows('{"instances":[[3,4,5],[6,7,8]]}', 100)!;
    expect(a.shape).toBe(b.shape);
    const merged = mergeBody([a, b], 3);
    expect(JSON.parse(merged)).toEqual({
      instances: [
        [1, 2.5, null],
        [3, 4, 5],
        [6, 7, 8],
      ],
    });
    const ans = splitAnswer(
      KIND_PREDICT,
      JSON.stringify({ predictions: [0.1, [0.2, 0.8], 0.3], model_name: 'm', model_version: '2' }),
      3,
    )!;
    expect(JSON.parse(ans.slice(0, 1, undefined))).toEqual({
      predictions: [0.1],
      model_name: 'm',
      model_version: '2',
    });
    expect(JSON.parse(ans.slice(1, 2, undefined))).toEqual({
      predictions: [[0.2, 0.8], 0.3],
      model_name: 'm',
      model_version: '2',
    });
    expect(splitAnswer(KIND_PREDICT, '{"predictions":[1]}', 3)).toBeNull();
  });

  it('does not coalesce what it cannot merge faithfully', () => {
    for (const t of [
      'nope',
      '[]',
      '{"instances":[]}',
      '{"instances":[[1],[1,2]]}',
      '{"instances":[[1]],"raw":true}',
      '{"instances":[1]}',
      '{"instances":[{"a":1},[1]]}',
    ]) {
      expect(parsePredictRows(t, 100)).toBeNull();
    }
    expect(parsePredictRows('{"instances":[[1],[2]]}', 1)).toBeNull();
    expect(parsePredictRows('{"instances":[{"age":1}]}', 10)!.shape).toBe('o');
    expect(
      parseInferRows('{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[[1,2]]}]}', 10),
    ).toBeNull();
    expect(
      parseInferRows(
        '{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]}],"parameters":{}}',
        10,
      ),
    ).toBeNull();
    // More rows than a merge takes, stated before the data: not merged, and the rest is not read
    // (here it is not even JSON). A first shape with spaces counts the same.
    expect(parseInferRows('{"inputs":[{"name":"x","shape":[11,1],"data":[1,2,', 10)).toBeNull();
    expect(
      parseInferRows('{"inputs":[{"shape" : [ 11 , 1],"name":"x","datatype":"FP32","data":[]}]}', 10),
    ).toBeNull();
    // A stated count within the limit is only a hint: the full check still decides.
    const ok = '{"inputs":[{"name":"x","shape":[2,1],"datatype":"FP32","data":[1,2]}]}';
    expect(parseInferRows(ok, 10)!.rows).toBe(2);
    expect(parseInferRows(ok, 1)).toBeNull();
  });

  it('merges infer tensors along the batch dimension, echoing each client id', () => {
    const a = parseInferRows(
      '{"id":"r1","inputs":[{"name":"input-0","shape":[1,2],"datatype":"FP32","data":[1,2]}]}',
      10,
    )!;
    const b = parseInferRows(
      '{"inputs":[{"name":"input-0","shape":[2,2],"datatype":"FP32","data":[3,4,5,null]}]}',
      10,
    )!;
    expect(a.kind).toBe(KIND_INFER);
    expect(JSON.parse(mergeBody([a, b], 3))).toEqual({
      inputs: [{ name: 'input-0', shape: [3, 2], datatype: 'FP32', data: [1, 2, 3, 4, 5, null] }],
    });
    const upstream = {
      model_name: 'm',
      model_version: '1',
      outputs: [{ name: 'p', shape: [3, 2], datatype: 'FP64', data: [0.1, 0.9, 0.2, 0.8, 0.3, 0.7] }],
    };
    const ans = splitAnswer(KIND_INFER, JSON.stringify(upstream), 3)!;
    expect(JSON.parse(ans.slice(0, 1, 'r1'))).toEqual({
      model_name: 'm',
      model_version: '1',
      id: 'r1',
      outputs: [{ name: 'p', shape: [1, 2], datatype: 'FP64', data: [0.1, 0.9] }],
    });
    expect(JSON.parse(ans.slice(1, 2, undefined)).outputs[0]).toEqual({
      name: 'p',
      shape: [2, 2],
      datatype: 'FP64',
      data: [0.2, 0.8, 0.3, 0.7],
    });
    expect(ans.values(1, 1)).toEqual([0.2, 0.8]);
  });

  it('measures prediction differences', () => {
    expect(maxAbsDiff([0.5, [0.1, 0.9]], [0.25, [0.1, 0.8]])).toBeCloseTo(0.25);
    expect(maxAbsDiff(['a'], ['b'])).toBe(1);
  });
});

describe('cutting texts without re-encoding them', () => {
  it('takes the value JSON.parse takes (the last of repeated keys), and escaped strings whole', () => {
    const p = parsePredictRows('{"instances":[[1]],"instances":[[2],[3]]}', 10)!;
    expect(p.rows).toBe(2);
    expect(p.raw).toBe('[2],[3]');
    const o = parsePredictRows('{"instances":[{"a\\"]":"x]\\\\"},{"b":1}]}', 10)!;
    expect(JSON.parse(`[${o.raw}]`)).toEqual([{ 'a"]': 'x]\\' }, { b: 1 }]);
    const i = parseInferRows(
      '{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[9,9],"data":[ 1 , 2 ]}]}',
      10,
    )!;
    expect(i.raw).toBe('1 , 2');
  });

  it('splits several outputs by their own widths and keeps the answer text of each value', () => {
    const text =
      '{"model_name":"m","model_version":"1","id":"merged","outputs":[' +
      '{"name":"label","datatype":"INT64","shape":[3],"data":[1,0,1]},' +
      '{"name":"probabilities","datatype":"FP64","shape":[3,2],"data":[0.1,0.9,1.0e-3,0.999,0.5,0.5],"parameters":{"x":1}}]}';
    const s = splitAnswer(KIND_INFER, text, 3)!;
    expect(s.slice(1, 2, undefined)).toBe(
      '{"model_name":"m","model_version":"1","outputs":[' +
        '{"name":"label","datatype":"INT64","shape":[2],"data":[0,1]},' +
        '{"name":"probabilities","datatype":"FP64","shape":[2,2],"data":[1.0e-3,0.999,0.5,0.5],"parameters":{"x":1}}]}',
    );
    expect(splitAnswer(KIND_INFER, text.replace('[1,0,1]', '[1,0]'), 3)).toBeNull();
    expect(splitAnswer(KIND_INFER, `${text}x`, 3)).toBeNull();
  });
});
