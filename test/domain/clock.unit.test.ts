import { afterEach, describe, expect, it } from 'vitest';
import { currentTime, setClock } from '../../functions/domain/clock.js';
import { todayIn } from '../../functions/domain/dates.js';
import { nowIso } from '../../functions/store/items.js';

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

describe('the clock', () => {
  it('is what today and timestamps read: 03:30 UTC on 15 March is still the 14th in New York', () => {
    restore = setClock(() => new Date('2025-03-15T03:30:00.000Z'));
    expect(todayIn('America/New_York')).toBe('2025-03-14');
    expect(todayIn('Europe/London')).toBe('2025-03-15');
    expect(nowIso()).toBe('2025-03-15T03:30:00.000Z');
  });

  it('goes back to the previous clock when restored', () => {
    const outer = setClock(() => new Date('2030-01-01T00:00:00.000Z'));
    const inner = setClock(() => new Date('2031-01-01T00:00:00.000Z'));
    expect(currentTime().toISOString()).toBe('2031-01-01T00:00:00.000Z');
    inner();
    expect(currentTime().toISOString()).toBe('2030-01-01T00:00:00.000Z');
    outer();
    expect(Math.abs(currentTime().getTime() - Date.now())).toBeLessThan(60_000);
  });
});
