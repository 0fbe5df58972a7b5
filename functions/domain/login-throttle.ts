/**
 * How repeated wrong passwords are slowed. Per login (company + username): the first few failures cost nothing; each
 * one after that shuts the login for twice as long as the last, up to a minute — a guesser gets about one try a
 * minute, while the real user, whose right password is refused only while the login is shut (it cannot be checked
 * without telling the guesser too), waits at most that minute. Per source address, across logins, a much higher
 * bar stops one address spraying guesses over many usernames. Failures are forgotten after a quiet quarter hour.
 */
export const LOGIN_THROTTLE = {
  login: { freeFailures: 5, firstLockSeconds: 2, maxLockSeconds: 60 },
  source: { freeFailures: 1000, firstLockSeconds: 60, maxLockSeconds: 60 },
  forgetAfterSeconds: 15 * 60,
} as const;

export type ThrottleScope = 'login' | 'source';

/** Seconds a login (or source) is shut after its `failures`-th failure in a row: 0 while failures are free. */
export function lockSecondsAfter(scope: ThrottleScope, failures: number): number {
  const policy = LOGIN_THROTTLE[scope];
  if (failures < policy.freeFailures) return 0;
  const doublings = Math.min(failures - policy.freeFailures, 16);
  return Math.min(policy.maxLockSeconds, policy.firstLockSeconds * 2 ** doublings);
}

/** Whole seconds to announce in `Retry-After` for a lock ending at `lockedUntilMs` (at least 1 while shut). */
export function retryAfterSeconds(lockedUntilMs: number, nowMs: number): number {
  return Math.max(1, Math.ceil((lockedUntilMs - nowMs) / 1000));
}
