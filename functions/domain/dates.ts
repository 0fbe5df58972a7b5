/** Calendar dates as `YYYY-MM-DD` strings, computed in UTC so no local clock or DST shifts them. */

import { currentTime } from './clock.js';

export type Period = 'day' | 'week' | 'month' | 'year';

/** Today's date in a company's time zone. */
export function todayIn(timeZone: string, now = currentTime()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

function parts(date: string): [number, number, number] {
  const [y, m, d] = date.split('-').map(Number);
  return [y, m, d];
}

const format = (d: Date) => d.toISOString().slice(0, 10);

export function addDays(date: string, days: number): string {
  const [y, m, d] = parts(date);
  return format(new Date(Date.UTC(y, m - 1, d + days)));
}

/** Adds `count` months, keeping the day but clamping to the month's end (Jan 31 + 1 month = Feb 28/29). */
export function addMonths(date: string, count: number): string {
  const [y, m, d] = parts(date);
  const firstOfTarget = new Date(Date.UTC(y, m - 1 + count, 1));
  const lastDay = new Date(Date.UTC(firstOfTarget.getUTCFullYear(), firstOfTarget.getUTCMonth() + 1, 0)).getUTCDate();
  return format(new Date(Date.UTC(firstOfTarget.getUTCFullYear(), firstOfTarget.getUTCMonth(), Math.min(d, lastDay))));
}

/** `date` plus `term` periods. */
export function addTerm(date: string, term: number, period: Period): string {
  switch (period) {
    case 'day':
      return addDays(date, term);
    case 'week':
      return addDays(date, term * 7);
    case 'month':
      return addMonths(date, term);
    case 'year':
      return addMonths(date, term * 12);
  }
}

/** Whole days from `a` to `b` (negative when `b` is earlier). */
export function daysBetween(a: string, b: string): number {
  const [ay, am, ad] = parts(a);
  const [by, bm, bd] = parts(b);
  return Math.round((Date.UTC(by, bm - 1, bd) - Date.UTC(ay, am - 1, ad)) / 86_400_000);
}
