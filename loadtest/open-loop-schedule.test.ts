import { describe, expect, it } from 'vitest';
import { runSchedule } from './open-loop-schedule.js';

describe('runSchedule', () => {
  it('fires every request once, in order, each due 1/rate after the one before', async () => {
    const fired: Array<[number, number, number]> = [];
    const { t0 } = await runSchedule(2000, 40, (i, due) => fired.push([i, due, performance.now()]));
    expect(fired.map(([i]) => i)).toEqual([...Array(40).keys()]);
    for (const [i, due, at] of fired) {
      expect(due).toBeCloseTo(t0 + i * 0.5, 9);
      // A request never goes out before it is due.
      expect(at).toBeGreaterThanOrEqual(due - 1e-6);
    }
  });

  it('stops sending once stop() says so', async () => {
    let n = 0;
    await runSchedule(
      2000,
      1_000_000,
      () => n++,
      () => n >= 10,
    );
    expect(n).toBeGreaterThanOrEqual(10);
    expect(n).toBeLessThan(1_000_000);
  });
});
