import { describe, expect, it } from 'vitest';
import { respawnDelayMs } from './local-cluster.js';

describe('respawn backoff', () => {
  it('re-forks a dead worker at once, then backs off exponentially while it keeps dying young', () => {
    expect([0, 1, 2, 3, 4, 5].map(respawnDelayMs)).toEqual([0, 0, 100, 200, 400, 800]);
    expect(respawnDelayMs(12)).toBe(10_000);
    expect(respawnDelayMs(50)).toBe(10_000);
  });
});
