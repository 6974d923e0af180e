// Age of a discrepancy in business days. src/reconcile has no exported calendar helper yet, so this is a tiny one
// with the same rule as the settlement lag (matching.md): weekends and the configured holidays are skipped.
import { addDays, weekday } from '../shared/dates.js';

export interface BusinessCalendar {
  /** Business days after `from` up to and including `to` (0 when `to` is not after `from`). */
  between(from: string, to: string): number;
}

export function businessCalendar(holidays: readonly string[]): BusinessCalendar {
  const off = new Set(holidays);
  const isBusinessDay = (d: string) => {
    const w = weekday(d);
    return w !== 0 && w !== 6 && !off.has(d);
  };
  // Ages are asked for many rows with few distinct dates: remember each answer.
  const cache = new Map<string, number>();
  return {
    between(from, to) {
      if (to <= from) return 0;
      const key = `${from}|${to}`;
      let n = cache.get(key);
      if (n === undefined) {
        n = 0;
        for (let d = addDays(from, 1); d <= to; d = addDays(d, 1)) if (isBusinessDay(d)) n++;
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
