import { describe, expect, it } from 'vitest';
import { BadInputError } from '../shared/errors/grove-error.js';
import { buildBody, buildBodyPool, parseCsvRows, seededRandom, syntheticRows } from './request-bodies.js';

describe('parseCsvRows', () => {
  it('reads the header and numbers, an empty field as missing', () => {
    const set = parseCsvRows('a,b,c\n1,,3\r\n-4.5,5e-1,6\n\n');
    expect(set.featureNames).toEqual(['a', 'b', 'c']);
    expect(set.rows[0]![1]).toBeNaN();
    expect(set.rows[1]).toEqual([-4.5, 0.5, 6]);
  });
  it('rejects ragged rows and non-numbers', () => {
    expect(() => parseCsvRows('a,b\n1\n')).toThrow(BadInputError);
    expect(() => parseCsvRows('a,b\n1,x\n')).toThrow(BadInputError);
    expect(() => parseCsvRows('a,b\n')).toThrow(BadInputError);
  });
});

describe('synthetic rows', () => {
  it('repeat for a seed and differ across seeds', () => {
    const a = syntheticRows(['x', 'y'], 50, 1);
    expect(syntheticRows(['x', 'y'], 50, 1)).toEqual(a);
    expect(syntheticRows(['x', 'y'], 50, 2).rows).not.toEqual(a.rows);
    const values = a.rows.flat();
    expect(values.every(Number.isFinite)).toBe(true);
    // Roughly standard normal: mean near 0, most values within 3.
    expect(Math.abs(values.reduce((s, v) => s + v, 0) / values.length)).toBeLessThan(0.5);
    expect(values.filter((v) => Math.abs(v) > 3).length).toBeLessThan(3);
  });
  it('seededRandom stays in [0, 1)', () => {
    const r = seededRandom(0);
    for (let i = 0; i < 1000; i++) {
      const v = r();
      expect(v >= 0 && v < 1).toBe(true);
    }
  });
});

describe('buildBody', () => {
  const set = parseCsvRows('f0,f1\n1,2\n3,\n5,6\n');
  it('v2: an [N, F] tensor with null for missing, wrapping around the rows', () => {
    const body = JSON.parse(buildBody(set, 'v2', 1, 3));
    expect(body.inputs[0]).toEqual({
      name: 'input-0',
      shape: [3, 2],
      datatype: 'FP64',
      data: [3, null, 5, 6, 1, 2],
    });
  });
  it('v1: named instances, a missing feature left out', () => {
    const body = JSON.parse(buildBody(set, 'v1', 0, 2));
    expect(body).toEqual({ instances: [{ f0: 1, f1: 2 }, { f0: 3 }] });
  });
  it('a pool of distinct bodies, never more than the rows allow', () => {
    expect(buildBodyPool(set, 'v2', 1)).toHaveLength(3);
    expect(new Set(buildBodyPool(set, 'v2', 1)).size).toBe(3);
    expect(buildBodyPool(set, 'v2', 2)).toHaveLength(2);
    expect(() => buildBodyPool({ featureNames: ['a'], rows: [] }, 'v1', 1)).toThrow(BadInputError);
  });
});
