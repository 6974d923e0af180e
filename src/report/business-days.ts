// Age of a discrepancy in business days, by the reconciler's own calendar (weekends and configured holidays, the
// same rule as the settlement lag), so the report and the matcher never disagree about what a business day is.
import { businessDaysBetween } from '../reconcile/calendar.js';

export interface BusinessCalendar {
  /** Business days after `from` up to and including `to` (0 when `to` is not after `from`). */
  between(from: string, to: string): number;
}

export function businessCalendar(holidays: readonly string[]): BusinessCalendar {
  // Ages are asked for many rows with few distinct dates (and the calendar walks day by day): remember answers.
  const cache = new Map<string, number>();
  return {
    between(from, to) {
      if (to <= from) return 0;
      const key = `${from}|${to}`;
      let n = cache.get(key);
      if (n === undefined) {
        n = businessDaysBetween(from, to, holidays);
        cache.set(key, n);
      }
      return n;
    },
  };
}

/** The buckets of the Discrepancies sheet. */
export function agingBucket(age: number): '0-1' | '2-3' | '4-7' | '8+' {
  if (age <= 1) return '0-1';
  if (age <= 3) return '2-3';
  if (age <= 7) return '4-7';
  return '8+';
}
