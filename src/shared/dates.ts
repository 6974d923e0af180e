import { UsageError } from './errors.js';

// Calendar dates are 'YYYY-MM-DD' strings: a settlement date has no time zone, so no Date object pretends one.

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isIsoDate(s: string): boolean {
  const m = ISO_DATE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s;
}

/** Today's calendar date in a time zone. */
export function todayIn(timeZone: string, now: Date = new Date()): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now);
  return parts; // en-CA formats as YYYY-MM-DD
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Every date from `from` to `to`, inclusive. */
export function eachDate(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}

/** 0 = Sunday … 6 = Saturday. */
export function weekday(date: string): number {
  return new Date(`${date}T00:00:00Z`).getUTCDay();
}

/** `YYYY-MM-DD`, `today` or `yesterday` (in the configured time zone) to a calendar date. */
export function resolveDate(text: string, timeZone: string, now: Date = new Date()): string {
  const today = todayIn(timeZone, now);
  if (text === 'today') return today;
  if (text === 'yesterday') return addDays(today, -1);
  if (!isIsoDate(text))
    throw new UsageError(`invalid date "${text}": expected YYYY-MM-DD, today or yesterday`);
  return text;
}

export interface DateRange {
  from: string;
  to: string;
}

export interface DateRangeOptions {
  date?: string;
  from?: string;
  to?: string;
}

/** `--date D`, or `--from D --to D`; default `--date yesterday`. */
export function resolveRange(opts: DateRangeOptions, timeZone: string, now: Date = new Date()): DateRange {
  if (opts.date !== undefined && (opts.from !== undefined || opts.to !== undefined)) {
    throw new UsageError('give either --date or --from/--to, not both');
  }
  if ((opts.from === undefined) !== (opts.to === undefined))
    throw new UsageError('--from and --to go together');
  if (opts.from !== undefined && opts.to !== undefined) {
    const range = { from: resolveDate(opts.from, timeZone, now), to: resolveDate(opts.to, timeZone, now) };
    if (range.from > range.to) throw new UsageError(`--from ${range.from} is after --to ${range.to}`);
    return range;
  }
  const d = resolveDate(opts.date ?? 'yesterday', timeZone, now);
  return { from: d, to: d };
}
