import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../shared/random/seeded-rng.js';
import { packDigits, packWorthIt, unpackDigits } from './digit-pack.js';

describe('digit packing of stored chunks', () => {
  it('packs numeric CSV two characters to a byte and gives back the same bytes', () => {
    const csv = Buffer.from('k1,0.25,-1.5e-07,,3\nk22,1e+20,7,NaN,0\n', 'utf8');
    const packed = packDigits(csv);
    expect(unpackDigits(packed)).toEqual(csv);
    const numbers = Buffer.from('0.7847307324409485,-1.5908790826797485,,1.208311676979065\n');
    expect(packDigits(numbers).length).toBe(Math.ceil(numbers.length / 2));
    expect(packWorthIt(numbers, packDigits(numbers))).toBe(true);
  });

  it('any bytes round-trip: every byte value, odd and even lengths, empty, UTF-8 text', () => {
    for (const s of ['', '7', '77', 'ä', '😀,1\r\n', 'a,b\n"x, y",2\n']) {
      const b = Buffer.from(s, 'utf8');
      expect(unpackDigits(packDigits(b)), JSON.stringify(s)).toEqual(b);
    }
    const all = Buffer.alloc(512);
    for (let i = 0; i < 512; i++) all[i] = (i * 7) & 255;
    expect(unpackDigits(packDigits(all))).toEqual(all);
    for (let seed = 1; seed <= 200; seed++) {
      const r = mulberry32(seed);
      const n = Math.floor(r() * 300);
      // Mostly symbols, some other bytes: every mix of pairs and escapes.
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++)
        b[i] = r() < 0.8 ? '0123456789.-,\ne'.charCodeAt(Math.floor(r() * 15)) : Math.floor(r() * 256);
      expect(unpackDigits(packDigits(b)), `seed ${seed}`).toEqual(b);
      // The same bytes at an odd offset (read byte by byte, not as 16-bit words) pack the same.
      const host = Buffer.alloc(n + 1);
      b.copy(host, 1);
      expect(packDigits(host.subarray(1)), `seed ${seed}, odd offset`).toEqual(packDigits(b));
    }
  });

  it('a chunk too large for the reused space packs the same in space of its own', () => {
    const row = Buffer.from('0.7847307324409485,-1.5908790826797485,,1.208311676979065\n');
    const big = Buffer.alloc(12 << 20);
    for (let at = 0; at < big.length; at += row.length) row.copy(big, at);
    const packed = packDigits(big);
    expect(packed.length).toBeLessThan(big.length * 0.51);
    expect(unpackDigits(packed).equals(big)).toBe(true);
    expect(unpackDigits(packDigits(row))).toEqual(row); // and the reused space still serves
  });

  it('text that is not mostly numbers is not worth packing', () => {
    const words = Buffer.from('alpha,beta,gamma,delta\nepsilon,zeta,eta,theta\n');
    expect(packWorthIt(words, packDigits(words))).toBe(false);
  });

  it('refuses bytes no packing gives, rather than inventing text', () => {
    expect(() => unpackDigits(Uint8Array.of(0x0f))).toThrow(/damaged at byte 0/); // nibble 15
    expect(() => unpackDigits(Uint8Array.of(0x12, 0xf0, 0x31))).toThrow(/damaged at byte 1/); // cut pair
    expect(() => unpackDigits(Uint8Array.of(0xf1, 0x31, 0x12))).toThrow(/damaged at byte 0/); // single not last
    expect(() => unpackDigits(Uint8Array.of(0xf7))).toThrow(/damaged/);
  });
});
