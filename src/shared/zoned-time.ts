// Wall-clock time in a named time zone to an instant, without a time-zone library: Intl knows every zone's offset.

const formatters = new Map<string, Intl.DateTimeFormat>();

/** One formatter per zone: building one costs far more than using it (settlement files convert every line). */
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The zone's UTC offset in ms at the instant `utcMs` (whole seconds). */
function offsetMs(timeZone: string, utcMs: number): number {
  const v: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(utcMs))
    if (part.type !== 'literal') v[part.type] = Number(part.value);
  const asUtc = Date.UTC(
    v.year ?? 0,
    (v.month ?? 1) - 1,
    v.day ?? 1,
    v.hour ?? 0,
    v.minute ?? 0,
    v.second ?? 0,
  );
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/** The zone's UTC offset in minutes at an instant (Europe/Berlin in winter: 60). */
export function offsetMinutes(timeZone: string, at: Date): number {
  return Math.round(offsetMs(timeZone, at.getTime()) / 60_000);
}

/**
 * The instant (ms) at which the clocks in `timeZone` show the wall time `wallMs` (that wall time read as UTC).
 * The offset at the wall time read as UTC is off by at most one transition: a second pass settles it. Across a
 * DST gap (02:30 that never happens) the time moves forward by the gap (03:30); in an overlap it is the later
 * of the two instants.
 */
export function wallToInstantMs(wallMs: number, timeZone: string): number {
  const first = wallMs - offsetMs(timeZone, wallMs);
  return wallMs - offsetMs(timeZone, first);
}

/** The instant at which the clocks in `timeZone` show `date` `time` ('YYYY-MM-DD', 'HH:MM'); see wallToInstantMs. */
export function zonedTimeToInstant(date: string, time: string, timeZone: string): Date {
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
  const [h, mi] = time.split(':').map(Number) as [number, number];
  return new Date(wallToInstantMs(Date.UTC(y, mo - 1, d, h, mi), timeZone));
}

/** `at` as ISO 8601 wall time in `timeZone`, with that zone's offset: `2026-11-20T12:00:00+01:00`. */
export function isoInZone(at: Date, timeZone: string): string {
  const off = offsetMinutes(timeZone, at);
  const wall = new Date(at.getTime() + off * 60_000).toISOString().slice(0, 19);
  const abs = Math.abs(off);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${wall}${off < 0 ? '-' : '+'}${hh}:${mm}`;
}
