import { describe, expect, it } from 'vitest';
import { addDays, eachDate, isIsoDate, resolveRange, todayIn } from './dates.js';
import { UsageError } from './errors.js';

describe('dates', () => {
  const now = new Date('2026-11-21T23:30:00Z');

  it('resolves today and yesterday in the configured time zone', () => {
    expect(todayIn('UTC', now)).toBe('2026-11-21');
    expect(todayIn('Europe/Berlin', now)).toBe('2026-11-22');
    expect(resolveRange({}, 'Europe/Berlin', now)).toEqual({ from: '2026-11-21', to: '2026-11-21' });
    expect(resolveRange({ date: 'today' }, 'UTC', now)).toEqual({ from: '2026-11-21', to: '2026-11-21' });
  });

  it('accepts ranges and refuses bad ones with a usage error', () => {
    expect(resolveRange({ from: '2026-01-01', to: '2026-03-31' }, 'UTC', now)).toEqual({
      from: '2026-01-01',
      to: '2026-03-31',
    });
    expect(() => resolveRange({ from: '2026-02-01', to: '2026-01-01' }, 'UTC', now)).toThrow(UsageError);
    expect(() => resolveRange({ from: '2026-02-01' }, 'UTC', now)).toThrow(/go together/);
    expect(() => resolveRange({ date: '2026-02-30' }, 'UTC', now)).toThrow(/invalid date/);
    expect(() => resolveRange({ date: 'today', from: 'today', to: 'today' }, 'UTC', now)).toThrow(/either/);
  });

  it('walks calendar dates without time-zone drift', () => {
    expect(isIsoDate('2024-02-29')).toBe(true);
    expect(isIsoDate('2026-02-29')).toBe(false);
    expect(addDays('2026-03-28', 2)).toBe('2026-03-30');
    expect(eachDate('2026-12-30', '2027-01-02')).toEqual([
      '2026-12-30',
      '2026-12-31',
      '2027-01-01',
      '2027-01-02',
    ]);
  });
});
