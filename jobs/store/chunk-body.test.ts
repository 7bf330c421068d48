import { describe, expect, it } from 'vitest';
import { bodyParams, rowText } from './chunk-body.js';

describe("a chunk's body in its row", () => {
  it('numeric CSV bytes go packed with an empty body, and read back as their text', () => {
    const text = '0.5,-1e-07,3\n12,,7\n'.repeat(20);
    const [body, packed] = bodyParams(Buffer.from(text));
    expect(body).toBe('');
    expect(packed!.length).toBeLessThan(text.length * 0.75);
    expect(rowText({ body, body_packed: packed })).toBe(text);
  });

  it('text, and bytes that would not shrink by a quarter, go as they are', () => {
    expect(bodyParams('a,b\n1,2')).toEqual(['a,b\n1,2', null]);
    const words = new Uint8Array(Buffer.from('alpha,"beta"\ngamma,delta\n'));
    const [body, packed] = bodyParams(words);
    expect([Buffer.from(body).toString(), packed]).toEqual(['alpha,"beta"\ngamma,delta\n', null]);
    expect(rowText({ body: 'x,y', body_packed: null })).toBe('x,y');
  });

  it('a damaged packed body reads as null (its job fails), not as other text', () => {
    expect(rowText({ body: '', body_packed: Buffer.from([0x12, 0xf0]) })).toBeNull();
  });
});
