import { addDays, weekday } from '../shared/dates.js';

// Business days: Monday to Friday, minus the configured holidays. Dates are 'YYYY-MM-DD' in the configured time
// zone. The SQL twins (payrecon_add_business_days, payrecon_business_days_between, in the reconcile_calendar
// migration) compute the same thing set-based; test/reconcile/calendar.test.ts keeps the two equal.

export function isBusinessDay(date: string, holidays: ReadonlySet<string> | readonly string[]): boolean {
  const wd = weekday(date);
  if (wd === 0 || wd === 6) return false;
  return holidays instanceof Set ? !holidays.has(date) : !(holidays as readonly string[]).includes(date);
}

/**
 * The n-th business day after `date` (before it when n < 0). n = 0 returns `date` itself, business day or not:
 * a lag of 0 means "settled the same day".
 */
export function addBusinessDays(date: string, n: number, holidays: readonly string[]): string {
  if (!Number.isInteger(n)) throw new RangeError(`business days must be a whole number, got ${n}`);
  const set = new Set(holidays);
  const step = n < 0 ? -1 : 1;
  let d = date;
  for (let left = Math.abs(n); left > 0;) {
    d = addDays(d, step);
    if (isBusinessDay(d, set)) left--;
  }
  return d;
}

/** Business days in (a, b]; negative when b is before a. businessDaysBetween(d, addBusinessDays(d, n)) = n. */
export function businessDaysBetween(a: string, b: string, holidays: readonly string[]): number {
  if (a === b) return 0;
  const set = new Set(holidays);
  const [lo, hi, sign] = a < b ? [a, b, 1] : [b, a, -1];
  let count = 0;
  for (let d = addDays(lo, 1); d <= hi; d = addDays(d, 1)) if (isBusinessDay(d, set)) count++;
  return sign * count;
}

/**
 * The earliest transaction date whose deadline (date + lag business days) is on or after `from`: movements from
 * this date on can still be awaiting or due inside a run that starts at `from`. Deadlines never decrease with the
 * date, so stepping back until one falls before `from` finds it.
 */
export function earliestDateDueFrom(from: string, lag: number, holidays: readonly string[]): string {
  let d = from;
  while (addBusinessDays(addDays(d, -1), lag, holidays) >= from) d = addDays(d, -1);
  return d;
}
