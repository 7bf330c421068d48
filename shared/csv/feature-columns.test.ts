import { describe, expect, it } from 'vitest';
import { UnknownFeatureError } from '../errors/grove-error.js';
import { csvDenseRows, featureColumns } from './feature-columns.js';

const F = ['a', 'b', 'c'];

describe('CSV columns -> features (docs/formats.md)', () => {
  it('matches names in any order; absent features are not read', () => {
    expect([...featureColumns([' c', 'a '], F)]).toEqual([2, 0]);
  });

  it('an unknown column is an error by default, left out when asked', () => {
    expect(() => featureColumns(['a', 'zz', 'yy'], F)).toThrow(UnknownFeatureError);
    expect([...featureColumns(['a', 'zz'], F, { extraColumns: 'ignore' })]).toEqual([0, -1]);
    expect([...featureColumns(['y', 'b', 'a'], F, { exclude: ['y'] })]).toEqual([-1, 1, 0]);
  });

  it('reads by position when no name matches and the width is the model’s', () => {
    expect([...featureColumns(['x', 'y', 'z'], F)]).toEqual([0, 1, 2]);
    expect([...featureColumns(['x', 'label', 'y', 'z'], F, { exclude: ['label'] })]).toEqual([0, -1, 1, 2]);
    expect(() => featureColumns(['x', 'y'], F)).toThrow(UnknownFeatureError);
    expect(() => featureColumns(['x', 'y'], F, { extraColumns: 'ignore' })).toThrow(
      expect.objectContaining({ code: 'GROVE_ERR_BAD_CSV' }),
    );
  });

  it('refuses a repeated column', () => {
    expect(() => featureColumns(['a', 'b', 'a'], F)).toThrow(
      expect.objectContaining({ code: 'GROVE_ERR_BAD_CSV' }),
    );
  });
});

describe('CSV records -> dense rows', () => {
  const header = ['c', 'a'];
  const columns = featureColumns(header, F);

  it('reads values by the feature-value rule; unread features stay missing', () => {
    const { data, rows } = csvDenseRows('3,1\r\nNA,-inf\n\n"4",\n', 2, header, columns, 3);
    expect(rows).toBe(3);
    expect([...data]).toEqual([
      1,
      Number.NaN,
      3,
      Number.NEGATIVE_INFINITY,
      Number.NaN,
      Number.NaN,
      Number.NaN,
      Number.NaN,
      4,
    ]);
  });

  it('names the line and column of a bad value, and the line of a ragged row', () => {
    expect(() => csvDenseRows('1,2\n1,x\n', 2, header, columns, 3)).toThrow(
      "value 'x' at CSV line 3, column 'a' is not a number",
    );
    expect(() => csvDenseRows('1,2\n1,x\n', 2, header, columns, 3)).toThrow(
      expect.objectContaining({ code: 'GROVE_ERR_NOT_NUMERIC' }),
    );
    expect(() => csvDenseRows('1,2\n1\n', 2, header, columns, 3)).toThrow(
      /CSV line 3 has 1 fields; the header has 2/,
    );
  });
});
