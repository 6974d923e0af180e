// Cron arithmetic node-cron does not expose: the most recent scheduled time before a given instant.
import cron from 'node-cron';
import { ConfigError } from '../shared/errors.js';

export interface CronMatcher {
  match(date: Date): boolean;
}

/** Checks an expression once at start, naming the configuration key, instead of failing on the first tick. */
export function validateCron(expression: string): void {
  const v = cron.validateDetailed(expression);
  if (!v.valid) {
    const why = v.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
    throw new ConfigError(`schedule.cron: invalid cron expression "${expression}"${why ? ` (${why})` : ''}`);
  }
}

/**
 * The latest instant strictly before `before` that the expression matches, in the matcher's time zone, looking
 * back at most `maxDays` (a daily or weekly schedule is always found). Steps minute by minute, checking the
 * expression's seconds within each minute; matching localises each candidate, so DST transitions come out right.
 */
export function previousScheduledTime(expression: string, matcher: CronMatcher, before: Date, maxDays = 8): Date | null {
  const seconds = [...cron.parse(expression).second].sort((a, b) => b - a);
  const minute = 60_000;
  let start = Math.floor(before.getTime() / minute) * minute;
  const limit = before.getTime() - maxDays * 86_400_000;
  for (; start >= limit; start -= minute) {
    for (const s of seconds) {
      const t = start + s * 1000;
      if (t >= before.getTime() || t < limit) continue;
      const candidate = new Date(t);
      if (matcher.match(candidate)) return candidate;
    }
  }
  return null;
}
