import { onTestFinished } from 'vitest';
import { setClock } from '../../functions/domain/clock.js';

export interface TestClock {
  /** Moves the time on (a second unless told), as if that long had passed between two requests. */
  advance(ms?: number): void;
  /** Gives the system's own clock back. */
  restore(): void;
}

/**
 * Fixes what the system takes as now (business dates and timestamps, functions/domain/clock.ts) at `start`, in
 * this test process, which is also where the local stack of e2e tests runs. Call `restore` in a `finally` or an
 * `afterEach`.
 *
 * @example const clock = useTestClock('2025-03-15T03:30:00Z'); // 14 March in New York, 15th in London
 */
export function useTestClock(start: string): TestClock {
  let now = Date.parse(start);
  if (Number.isNaN(now)) throw new Error(`Not a time: ${start}`);
  const restore = setClock(() => new Date(now));
  return {
    advance: (ms = 1000) => {
      now += ms;
    },
    restore,
  };
}

/** `useTestClock` for the running test only: the system's clock comes back when the test ends, pass or fail. */
export function useTestClockForThisTest(start: string): TestClock {
  const clock = useTestClock(start);
  onTestFinished(() => clock.restore());
  return clock;
}
