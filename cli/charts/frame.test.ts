import { describe, expect, it } from 'vitest';
import { wrapLabel } from './frame.js';

describe('wrapLabel', () => {
  it('wraps greedily on spaces and keeps long words whole', () => {
    expect(wrapLabel('gateway + 2 workers', 10)).toEqual(['gateway +', '2 workers']);
    expect(wrapLabel('policy least-outstanding', 10)).toEqual(['policy', 'least-outstanding']);
    expect(wrapLabel('short', 10)).toEqual(['short']);
    expect(wrapLabel('', 10)).toEqual(['']);
  });
});
