import { describe, expect, it } from 'vitest';
import { LOGIN_THROTTLE, lockSecondsAfter, retryAfterSeconds } from '../../functions/domain/login-throttle.js';

describe('how long a login is shut', () => {
  it('not at all for the first failures, then twice as long after each, up to a minute', () => {
    const free = LOGIN_THROTTLE.login.freeFailures;
    expect(Array.from({ length: free - 1 }, (_, i) => lockSecondsAfter('login', i + 1))).toEqual(Array(free - 1).fill(0));
    expect([free, free + 1, free + 2, free + 5, free + 100].map((n) => lockSecondsAfter('login', n))).toEqual([2, 4, 8, 60, 60]);
  });

  it('for a source address only after far more failures than for one login', () => {
    expect(lockSecondsAfter('source', LOGIN_THROTTLE.login.freeFailures * 10)).toBe(0);
    expect(lockSecondsAfter('source', LOGIN_THROTTLE.source.freeFailures)).toBe(60);
  });

  it('announces whole seconds, at least one, in Retry-After', () => {
    expect(retryAfterSeconds(10_000, 8_001)).toBe(2);
    expect(retryAfterSeconds(10_000, 9_999)).toBe(1);
    expect(retryAfterSeconds(10_000, 10_000)).toBe(1);
  });
});
