import { describe, expect, it } from 'vitest';
import { applyTransform, outputWidth } from './transforms.js';
import type { TransformName } from './tree-ir.js';

function run(name: TransformName, margins: number[], scale = 1): number[] {
  const m = Float64Array.from([99, ...margins]); // offset 1: the offsets must be honoured
  const out = new Float64Array(outputWidth(name, margins.length) + 2).fill(-7);
  applyTransform(name, scale, m, 1, margins.length, out, 1);
  expect(out[0]).toBe(-7);
  expect(out[out.length - 1]).toBe(-7);
  return Array.from(out.subarray(1, out.length - 1));
}

describe('applyTransform', () => {
  it('sigmoid with the LightGBM coefficient', () => {
    expect(run('sigmoid', [0])).toEqual([0.5]);
    expect(run('sigmoid', [1], 2)[0]).toBeCloseTo(1 / (1 + Math.exp(-2)), 15);
    expect(run('sigmoid', [-800])[0]).toBe(0);
    expect(run('sigmoid', [800])[0]).toBe(1);
  });

  it('sigmoid_pair gives [1 - p, p]', () => {
    const [a, b] = run('sigmoid_pair', [0.3]);
    expect(a! + b!).toBeCloseTo(1, 15);
    expect(b).toBeCloseTo(1 / (1 + Math.exp(-0.3)), 15);
  });

  it('softmax sums to one, survives huge margins, is shift invariant', () => {
    const p = run('softmax', [1, 2, 3]);
    expect(p.reduce((a, b) => a + b)).toBeCloseTo(1, 15);
    expect(p[2]! / p[1]!).toBeCloseTo(Math.E, 12);
    const q = run('softmax', [1001, 1002, 1003]);
    for (let k = 0; k < 3; k++) expect(q[k]).toBeCloseTo(p[k]!, 12);
  });

  it('ova_sigmoid applies one sigmoid per class', () => {
    const p = run('ova_sigmoid', [0, 1, -1], 1.5);
    expect(p[0]).toBe(0.5);
    expect(p[1]).toBeCloseTo(1 / (1 + Math.exp(-1.5)), 15);
    expect(p[2]).toBeCloseTo(1 / (1 + Math.exp(1.5)), 15);
  });

  it('argmax picks the first largest (XGBoost FindMaxIndex)', () => {
    expect(run('argmax', [0.1, 0.7, 0.7])).toEqual([1]);
    expect(run('argmax', [3, -1, 2])).toEqual([0]);
  });

  it('exp, hinge, log1p_exp, signed_square, identity', () => {
    expect(run('exp', [Math.log(3)])[0]).toBeCloseTo(3, 14);
    expect(run('hinge', [0, 1e-9, -2])).toEqual([0, 1, 0]);
    expect(run('log1p_exp', [0])[0]).toBeCloseTo(Math.LN2, 15);
    expect(run('signed_square', [-3, 2])).toEqual([-9, 4]);
    expect(run('identity', [1.25, -2])).toEqual([1.25, -2]);
  });

  it('outputWidth', () => {
    expect(outputWidth('sigmoid_pair', 1)).toBe(2);
    expect(outputWidth('argmax', 5)).toBe(1);
    expect(outputWidth('softmax', 5)).toBe(5);
  });
});
