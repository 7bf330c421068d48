import { describe, expect, it } from 'vitest';
import { createPolicy } from './create-policy.js';
import type { Pickable, Rng } from './policy.js';

const W = (outstanding: number, id: string) => ({ outstanding, id });
type T = Pickable & { id: string };

/** Counts picks over every rng value k/steps (exact distribution, no sampling noise). */
function enumerate(pick: (rng: Rng) => T | undefined, steps: number, draws = 1): Map<string, number> {
  const counts = new Map<string, number>();
  const total = steps ** draws;
  for (let c = 0; c < total; c++) {
    const digits: number[] = [];
    let x = c;
    for (let d = 0; d < draws; d++) {
      digits.push((x % steps) / steps);
      x = Math.floor(x / steps);
    }
    let k = 0;
    const w = pick(() => digits[k++]!);
    counts.set(w!.id, (counts.get(w!.id) ?? 0) + 1);
  }
  return counts;
}

describe('policies', () => {
  const three = [W(5, 'a'), W(0, 'b'), W(9, 'c')];

  it('random is uniform over the rng range', () => {
    const p = createPolicy('random');
    expect(Object.fromEntries(enumerate((r) => p.pick(three, r), 300))).toEqual({ a: 100, b: 100, c: 100 });
    expect(p.pick([], Math.random)).toBeUndefined();
  });

  it('round-robin cycles in order and ignores rng', () => {
    const p = createPolicy('round-robin');
    const seq = Array.from({ length: 7 }, () => p.pick(three, () => 0)!.id).join('');
    expect(seq).toBe('abcabca');
  });

  it('least-outstanding picks the minimum and splits ties uniformly', () => {
    const p = createPolicy('least-outstanding');
    expect(Object.fromEntries(enumerate((r) => p.pick(three, r), 10))).toEqual({ b: 10 });
    const tied = [W(1, 'a'), W(0, 'b'), W(0, 'c'), W(0, 'd')];
    expect(Object.fromEntries(enumerate((r) => p.pick(tied, r), 300))).toEqual({ b: 100, c: 100, d: 100 });
  });

  it('p2c draws two distinct workers and keeps the less loaded: exact distribution', () => {
    const p = createPolicy('p2c');
    // Pairs drawn uniformly among the 6 ordered pairs of distinct workers (n=3: 3 x 2 rng cells).
    // Outstanding a=5, b=0, c=9: b wins every pair it is in (4 of 6), a wins (a,c),(c,a) (2 of 6),
    // c never wins.
    const counts = enumerate((r) => p.pick(three, r), 6, 2);
    expect(Object.fromEntries(counts)).toEqual({ a: 12, b: 24 });
    // Ties keep the first drawn, so equal loads spread uniformly.
    const equal = [W(1, 'a'), W(1, 'b'), W(1, 'c')];
    expect(Object.fromEntries(enumerate((r) => p.pick(equal, r), 6, 2))).toEqual({ a: 12, b: 12, c: 12 });
    // The most loaded of n workers is never chosen; the least loaded wins 2/n of the draws.
    const four = [W(3, 'a'), W(2, 'b'), W(1, 'c'), W(0, 'd')];
    const c4 = enumerate((r) => p.pick(four, r), 12, 2);
    expect(c4.get('a')).toBeUndefined();
    expect(c4.get('d')).toBe(144 / 2);
    expect(p.pick([W(0, 'x')], () => 0.99)!.id).toBe('x');
    // Peak-EWMA cost: (outstanding + 1) x latency. An idle worker 10x slower loses to one with 5
    // requests in flight (cost 10 vs 6) but wins against one with 10 (10 vs 11).
    const slow = { outstanding: 0, latencyMs: 10, id: 'slow' };
    expect(
      Object.fromEntries(
        enumerate((r) => p.pick([slow, { outstanding: 5, latencyMs: 1, id: 'fast' }], r), 2, 2),
      ),
    ).toEqual({ fast: 4 });
    expect(
      Object.fromEntries(
        enumerate((r) => p.pick([slow, { outstanding: 10, latencyMs: 1, id: 'fast' }], r), 2, 2),
      ),
    ).toEqual({ slow: 4 });
  });
});
