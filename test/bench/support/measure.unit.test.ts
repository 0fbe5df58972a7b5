import { describe, expect, it } from 'vitest';
import { inParallel, median, ratio } from '../../../bench/support/measure.js';

describe('median', () => {
  it('is the middle value, or the mean of the two middle ones, whatever the order', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('of nothing is not a number', () => {
    expect(median([])).toBeNaN();
  });
});

describe('ratio', () => {
  it('is large ÷ small', () => {
    expect(ratio(15, 10)).toBe(1.5);
  });

  it('counts nothing read in either fixture as no growth, and something from nothing as unbounded growth', () => {
    expect(ratio(0, 0)).toBe(1);
    expect(ratio(2, 0)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('inParallel', () => {
  it('runs every task once with at most `concurrency` at a time', async () => {
    const seen: number[] = [];
    let running = 0;
    let most = 0;
    await inParallel(10, 3, async (i) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 1));
      seen.push(i);
      running--;
    });
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(most).toBe(3);
  });
});
