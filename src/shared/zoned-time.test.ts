import { describe, expect, it } from 'vitest';
import { isoInZone, zonedTimeToInstant } from './zoned-time.js';

describe('isoInZone', () => {
  it('writes the wall time of the zone with its offset, on both sides of a DST change', () => {
    expect(isoInZone(new Date('2026-11-20T11:00:00Z'), 'Europe/Berlin')).toBe('2026-11-20T12:00:00+01:00');
    expect(isoInZone(new Date('2026-07-01T10:00:00Z'), 'Europe/Berlin')).toBe('2026-07-01T12:00:00+02:00');
    expect(isoInZone(new Date('2026-11-20T03:30:00Z'), 'America/New_York')).toBe('2026-11-19T22:30:00-05:00');
    expect(isoInZone(new Date('2026-11-20T00:00:00Z'), 'Asia/Kolkata')).toBe('2026-11-20T05:30:00+05:30');
    expect(isoInZone(new Date('2026-11-20T00:00:00Z'), 'UTC')).toBe('2026-11-20T00:00:00+00:00');
  });

  it('names the same instant as the wall time it came from', () => {
    const at = zonedTimeToInstant('2026-03-29', '09:30', 'Europe/Berlin');
    expect(isoInZone(at, 'Europe/Berlin')).toBe('2026-03-29T09:30:00+02:00');
    expect(new Date(isoInZone(at, 'Europe/Berlin')).getTime()).toBe(at.getTime());
  });
});
