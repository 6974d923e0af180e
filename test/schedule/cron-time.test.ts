import cron from 'node-cron';
import { describe, expect, it } from 'vitest';
import { previousScheduledTime, validateCron } from '../../src/schedule/cron-time.js';

const prev = (expr: string, tz: string, before: string) =>
  previousScheduledTime(expr, cron.createTask(expr, () => undefined, { timezone: tz }), new Date(before))?.toISOString() ?? null;

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
