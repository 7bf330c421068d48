import { describe, expect, it } from 'vitest';
import { parseRequestRows } from './observer.js';

describe('parseRequestRows (x-grove-request-ids from the gateway)', () => {
  it('reads URI-encoded ids with their row counts, in order', () => {
    expect(parseRequestRows(`a=1,${encodeURIComponent('b,c=d')}=2,x%25y=0`)).toEqual([
      { id: 'a', rows: 1 },
      { id: 'b,c=d', rows: 2 },
      { id: 'x%y', rows: 0 },
    ]);
  });
  it('gives null for an absent or malformed header, never throws', () => {
    for (const h of [undefined, '', 'a', 'a=', '=3', 'a=-1', 'a=1.5', 'a=x', '%E0%A4%A=1', ['a=1']]) {
      expect(parseRequestRows(h as string | undefined)).toBeNull();
    }
  });
});
