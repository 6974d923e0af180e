import { addDays, weekday } from '../../shared/dates.js';

// Business days as matching.md counts them for the settlement lag: weekends skipped. The sandbox world has no
// holidays, so the configuration it emits has none either and the matcher's calendar agrees with this one.
// Dates and clock times are formatted from a per-day cache: a million records must not mean a million Dates.

const DAY_MS = 86_400_000;

export function isBusinessDay(date: string): boolean {
  const wd = weekday(date);
  return wd !== 0 && wd !== 6;
}

const bdCache = new Map<string, string>();

/** `date` moved forward by `n` business days (n >= 1): Friday + 1 = Monday, Saturday + 1 = Monday. */
export function addBusinessDays(date: string, n: number): string {
  const key = `${date}|${n}`;
  const hit = bdCache.get(key);
  if (hit !== undefined) return hit;
  let d = date;
  let left = n;
  while (left > 0) {
    d = addDays(d, 1);
    if (isBusinessDay(d)) left--;
  }
  if (bdCache.size > 100_000) bdCache.clear();
  bdCache.set(key, d);
  return d;
}

const dayCache = new Map<number, string>();

/** The UTC calendar date of an epoch-millisecond time. */
export function dateOf(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  let s = dayCache.get(day);
  if (s === undefined) {
    s = new Date(day * DAY_MS).toISOString().slice(0, 10);
    if (dayCache.size > 100_000) dayCache.clear();
    dayCache.set(day, s);
  }
  return s;
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** 'HH:MM:SS' (UTC) of an epoch-millisecond time. */
export function clockOf(ms: number): string {
  const t = Math.floor((ms - Math.floor(ms / DAY_MS) * DAY_MS) / 1000);
  return `${pad2(Math.floor(t / 3600))}:${pad2(Math.floor(t / 60) % 60)}:${pad2(t % 60)}`;
}

/** The three millisecond digits. */
export function millisOf(ms: number): string {
  return String(ms % 1000).padStart(3, '0');
}
