import { describe, expect, it } from 'vitest';
import { Admission, deadlineOf } from './admission.js';

describe('admission control', () => {
  it('admits up to the limit, then tells a client over its share 429 and others 503', () => {
    const a = new Admission(4);
    for (let i = 0; i < 3; i++) expect(a.admit('heavy')).toBeNull();
    expect(a.admit('light')).toBeNull();
    expect(a.inflight).toBe(4);
    // Full: the fair share is 4 / 2 clients = 2; heavy holds 3, light 1.
    expect(a.admit('heavy')?.code).toBe('GROVE_ERR_OVER_SHARE');
    expect(a.admit('light')?.code).toBe('GROVE_ERR_OVERLOADED');
    expect(a.admit('newcomer')?.code).toBe('GROVE_ERR_OVERLOADED');
    expect(a.admit('heavy')?.retryAfterS).toBe(1);
    a.release('heavy');
    expect(a.admit('light')).toBeNull();
    for (const c of ['heavy', 'heavy', 'light', 'light']) a.release(c);
    expect(a.inflight).toBe(0);
    expect(a.clients).toBe(0);
  });

  it('0 means no limit', () => {
    const a = new Admission(0);
    for (let i = 0; i < 1000; i++) expect(a.admit('x')).toBeNull();
  });

  it('reads x-grove-deadline-ms: whole milliseconds, 1 to an hour', () => {
    expect(deadlineOf(undefined)).toBe(0);
    expect(deadlineOf('250')).toBe(250);
    expect(deadlineOf(['30', '40'])).toBe(30);
    for (const bad of ['0', '-1', '1.5', ' 5', '5ms', '3600001', ''])
      expect(typeof deadlineOf(bad), bad).toBe('object');
  });
});
