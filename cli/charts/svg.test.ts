import { describe, expect, it } from 'vitest';
import { escapeXml, formatNumber } from './svg.js';

describe('svg helpers', () => {
  it('escapes every XML special character', () => {
    expect(escapeXml(`<a href="x">&'`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;');
  });
  it('formats numbers compactly', () => {
    expect(formatNumber(12500)).toBe('12.5k');
    expect(formatNumber(2_000_000)).toBe('2M');
    expect(formatNumber(0.25)).toBe('0.25');
    expect(formatNumber(1234)).toBe('1230');
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(0.00012)).toBe('1.2e-4');
    expect(formatNumber(Number.NaN)).toBe('NaN');
  });
});
