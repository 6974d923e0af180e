// Time windows for API pulls: UTC days, because the gateways' query filters speak UTC, covering local dates.
import { addDays } from '../shared/dates.js';
import { zonedTimeToInstant } from '../shared/zoned-time.js';
import type { PullWindow } from './types.js';

const DAY_MS = 86_400_000;

/** Splits [from, to) at UTC midnights, so no request spans more than one day. */
export function dayWindows(window: PullWindow): PullWindow[] {
  const out: PullWindow[] = [];
  let from = window.from.getTime();
  const to = window.to.getTime();
  while (from < to) {
    const nextMidnight = Math.floor(from / DAY_MS) * DAY_MS + DAY_MS;
    const end = Math.min(nextMidnight, to);
    out.push({ from: new Date(from), to: new Date(end) });
    from = end;
  }
  return out;
}

/**
 * The whole UTC days covering the local dates from..to inclusive ('YYYY-MM-DD') of `timeZone`: the dates the
 * matcher reads by. West of UTC a local day ends on the next UTC date, east of it it starts on the one before.
 */
export function dateWindows(fromDate: string, toDate: string, timeZone: string): PullWindow[] {
  const start = zonedTimeToInstant(fromDate, '00:00', timeZone).getTime();
  const end = zonedTimeToInstant(addDays(toDate, 1), '00:00', timeZone).getTime();
  return dayWindows({
    from: new Date(Math.floor(start / DAY_MS) * DAY_MS),
    to: new Date(Math.ceil(end / DAY_MS) * DAY_MS),
  });
}
