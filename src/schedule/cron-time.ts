// Cron arithmetic node-cron does not expose: the most recent scheduled time before a given instant.
import cron from 'node-cron';
import { ConfigError } from '../shared/errors.js';
import { offsetMinutes } from '../shared/zoned-time.js';

export interface CronMatcher {
  match(date: Date): boolean;
}

/**
 * What is wrong with a cron expression, as node-cron sees it, or undefined when it is valid. The configuration
 * schema reports it under `schedule.cron`, so every command, `config check` included, refuses what the scheduler
 * would refuse.
 */
export function cronProblem(expression: string): string | undefined {
  const v = cron.validateDetailed(expression);
  if (v.valid) return undefined;
  const why = v.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
  return `invalid cron expression "${expression}"${why ? ` (${why})` : ''}`;
}

/** Checks an expression once at start, naming the configuration key, instead of failing on the first tick. */
export function validateCron(expression: string): void {
  const problem = cronProblem(expression);
  if (problem) throw new ConfigError(`schedule.cron: ${problem}`);
}

/**
 * The latest instant strictly before `before` that the expression matches, in the matcher's time zone, looking
 * back at most `maxDays` (a daily or weekly schedule is always found). Steps minute by minute, checking the
 * expression's seconds within each minute; matching localises each candidate, so DST transitions come out right.
 */
export function previousScheduledTime(
  expression: string,
  matcher: CronMatcher,
  before: Date,
  maxDays = 8,
): Date | null {
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

/**
 * Whether a forward DST jump between `from` and `to` swallowed a time the expression names. On the spring-forward
 * night in Europe/Berlin the clocks go 01:59 -> 03:00, so the default `30 2 * * *` never matches and node-cron
 * silently skips that night's run; system crons run such jobs right after the jump, and so do we.
 * `wallMatcher` is the expression matched in UTC: the skipped wall-clock times never existed in the zone, so they
 * are checked as plain wall times.
 */
export function skippedByDstJump(
  expression: string,
  wallMatcher: CronMatcher,
  timeZone: string,
  from: Date,
  to: Date,
): boolean {
  const before = offsetMinutes(timeZone, from);
  const after = offsetMinutes(timeZone, to);
  if (after <= before) return false;
  // The first minute with the new offset (transitions fall on minute boundaries).
  let lo = from.getTime();
  let hi = to.getTime();
  while (hi - lo > 60_000) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (offsetMinutes(timeZone, new Date(mid)) === before) lo = mid;
    else hi = mid;
  }
  let transition = Math.floor(hi / 60_000) * 60_000;
  if (transition <= lo) transition = hi;
  const skippedFrom = transition + before * 60_000; // what the clock would have shown: 02:00
  const seconds = cron.parse(expression).second;
  for (let m = 0; m < after - before; m++) {
    for (const s of seconds)
      if (wallMatcher.match(new Date(skippedFrom + m * 60_000 + s * 1000))) return true;
  }
  return false;
}
