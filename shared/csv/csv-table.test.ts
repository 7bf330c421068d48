import { describe, expect, it } from 'vitest';
import { column, parseCsvTable, tableFeatures } from './csv-table.js';

describe('CSV tables', () => {
  it('parses quoted fields; features by name with other columns left out; missing values', async () => {
    const t = await parseCsvTable('a,"b,c",y\n1,,0\n"2",None,1\n');
    expect(t.header).toEqual(['a', 'b,c', 'y']);
    expect(t.lines).toEqual([2, 3]);
    expect(Array.from(tableFeatures(t, ['a', 'b,c']))).toEqual([1, Number.NaN, 2, Number.NaN]);
    expect(column(t, 'y')).toEqual(['0', '1']);
    expect(() => column(t, 'nope')).toThrow(/no column 'nope'/);
  });

  it('refuses a ragged row', async () => {
    await expect(parseCsvTable('a,b\n1\n')).rejects.toThrow(/CSV line 2 has 1 fields/);
  });
});
