import cron from 'node-cron';
import { describe, expect, it } from 'vitest';
import { previousScheduledTime, skippedByDstJump, validateCron } from '../../src/schedule/cron-time.js';

const prev = (expr: string, tz: string, before: string) =>
  previousScheduledTime(
    expr,
    cron.createTask(expr, () => undefined, { timezone: tz }),
    new Date(before),
  )?.toISOString() ?? null;

describe('previousScheduledTime', () => {
  it('finds the last daily slot in the schedule time zone', () => {
    expect(prev('30 2 * * *', 'Europe/Berlin', '2026-11-21T05:00:00Z')).toBe('2026-11-21T01:30:00.000Z');
    // Strictly before: at the slot itself, the previous one is a day earlier.
    expect(prev('30 2 * * *', 'Europe/Berlin', '2026-11-21T01:30:00Z')).toBe('2026-11-20T01:30:00.000Z');
    // Summer time: 02:30 Berlin is 00:30 UTC.
    expect(prev('30 2 * * *', 'Europe/Berlin', '2026-07-01T12:00:00Z')).toBe('2026-07-01T00:30:00.000Z');
    expect(prev('30 2 * * *', 'America/New_York', '2026-11-21T05:00:00Z')).toBe('2026-11-20T07:30:00.000Z');
  });

  it('weekly schedules reach back up to a week; seconds are honoured', () => {
    expect(prev('0 6 * * 1', 'UTC', '2026-11-22T12:00:00Z')).toBe('2026-11-16T06:00:00.000Z'); // Sunday -> last Monday
    expect(prev('*/2 * * * * *', 'UTC', '2026-11-21T05:00:03.500Z')).toBe('2026-11-21T05:00:02.000Z');
    expect(prev('0 0 1 1 *', 'UTC', '2026-11-21T05:00:00Z')).toBeNull(); // yearly: beyond the search window
  });

  it('validateCron names the key', () => {
    expect(() => validateCron('30 2 * * *')).not.toThrow();
    expect(() => validateCron('not cron')).toThrow(/^schedule\.cron: invalid cron expression/);
  });
});

describe('skippedByDstJump', () => {
  const skipped = (expr: string, tz: string, from: string, to: string) =>
    skippedByDstJump(
      expr,
      cron.createTask(expr, () => undefined, { timezone: 'UTC' }),
      tz,
      new Date(from),
      new Date(to),
    );

  it('sees the 02:30 that the spring-forward night never has', () => {
    // node-cron itself never fires 02:30 Berlin on 2026-03-29: the clocks go from 01:59:59 to 03:00.
    const task = cron.createTask('30 2 * * *', () => undefined, { timezone: 'Europe/Berlin' });
    let matches = 0;
    for (let t = Date.parse('2026-03-28T22:00:00Z'); t < Date.parse('2026-03-29T22:00:00Z'); t += 60_000)
      if (task.match(new Date(t))) matches++;
    expect(matches).toBe(0);
    expect(skipped('30 2 * * *', 'Europe/Berlin', '2026-03-29T00:59:30Z', '2026-03-29T01:00:30Z')).toBe(true);
    expect(skipped('30 2 * * *', 'Europe/Berlin', '2026-03-28T20:00:00Z', '2026-03-29T05:00:00Z')).toBe(true); // a long sleep
  });

  it('ignores jumps that swallowed nothing scheduled, autumn jumps and ordinary minutes', () => {
    expect(skipped('30 3 * * *', 'Europe/Berlin', '2026-03-29T00:59:30Z', '2026-03-29T01:00:30Z')).toBe(
      false,
    );
    expect(skipped('30 2 * * 1', 'Europe/Berlin', '2026-03-29T00:59:30Z', '2026-03-29T01:00:30Z')).toBe(
      false,
    ); // a Sunday
    expect(skipped('30 2 * * *', 'Europe/Berlin', '2026-10-25T00:59:30Z', '2026-10-25T01:00:30Z')).toBe(
      false,
    );
    expect(skipped('30 2 * * *', 'Europe/Berlin', '2026-11-21T01:29:30Z', '2026-11-21T01:30:30Z')).toBe(
      false,
    );
    expect(skipped('30 2 * * *', 'UTC', '2026-03-29T00:59:30Z', '2026-03-29T01:00:30Z')).toBe(false);
    expect(skipped('0 2 * * *', 'America/New_York', '2026-03-08T06:59:30Z', '2026-03-08T07:00:30Z')).toBe(
      true,
    );
  });
});
