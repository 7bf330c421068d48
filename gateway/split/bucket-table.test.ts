import { describe, expect, it } from 'vitest';
import { BUCKETS, bucketOf, buildBucketTable } from './bucket-table.js';

function owners(table: Uint16Array, versions: string[]): string[] {
  return Array.from(table, (k) => versions[k]!);
}
function share(o: string[], v: string): number {
  return o.filter((x) => x === v).length / BUCKETS;
}

describe('bucket table (weighted rendezvous)', () => {
  it('gives each version a share close to its weight and none to weight 0', () => {
    const vs = ['1', '2', '3'];
    const o = owners(buildBucketTable(vs, [90, 10, 0]), vs);
    // Each bucket is an independent draw: binomial sd of the share is sqrt(.09/10000) = 0.003.
    expect(Math.abs(share(o, '2') - 0.1)).toBeLessThan(0.015);
    expect(share(o, '3')).toBe(0);
    const o2 = owners(buildBucketTable(vs, [1, 1, 2]), vs);
    expect(Math.abs(share(o2, '3') - 0.5)).toBeLessThan(0.02);
  });

  it('is a pure function of the weights (gateways agree) and stable per key', () => {
    const a = buildBucketTable(['1', '2'], [70, 30]);
    const b = buildBucketTable(['1', '2'], [70, 30]);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(bucketOf('user-42')).toBe(bucketOf('user-42'));
    expect(bucketOf('user-42')).not.toBe(bucketOf('user-43'));
  });

  it('a weight increase moves buckets only to the version that grew, exactly its gain (minimal movement)', () => {
    const vs = ['1', '2', '3'];
    const before = owners(buildBucketTable(vs, [60, 30, 10]), vs);
    for (const after of [
      [60, 30, 20], // '3' grows alone
      [60, 30, 11],
      [60, 30, 100],
    ]) {
      const o = owners(buildBucketTable(vs, after), vs);
      let moved = 0;
      for (let b = 0; b < BUCKETS; b++) {
        if (o[b] !== before[b]) {
          moved++;
          expect(o[b]).toBe('3'); // nobody moves anywhere but to the version that grew...
        }
        if (before[b] === '3') expect(o[b]).toBe('3'); // ...and nobody leaves it
      }
      // Movement is the minimum any assignment could achieve: the growth in '3's bucket count.
      expect(moved).toBe(o.filter((x) => x === '3').length - before.filter((x) => x === '3').length);
    }
  });

  it('two versions: 90/10 -> 80/20 moves exactly the gain, all from 1 to 2; the reverse moves them back', () => {
    const vs = ['1', '2'];
    const t90 = owners(buildBucketTable(vs, [90, 10]), vs);
    const t80 = owners(buildBucketTable(vs, [80, 20]), vs);
    let moved = 0;
    for (let b = 0; b < BUCKETS; b++) {
      if (t90[b] === '2') expect(t80[b]).toBe('2');
      if (t90[b] !== t80[b]) moved++;
    }
    expect(moved).toBe(Math.round((share(t80, '2') - share(t90, '2')) * BUCKETS));
    expect(moved).toBeGreaterThan(500);
    // A shrinking version only loses users; the others keep theirs.
    const t95 = owners(buildBucketTable(vs, [95, 5]), vs);
    for (let b = 0; b < BUCKETS; b++) if (t90[b] === '1') expect(t95[b]).toBe('1');
  });
});
