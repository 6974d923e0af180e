// Time windows for API pulls: UTC days, because the gateways' query filters speak UTC.
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

/** The UTC day windows covering calendar dates from..to inclusive ('YYYY-MM-DD'). */
export function dateWindows(fromDate: string, toDate: string): PullWindow[] {
  return dayWindows({
    from: new Date(`${fromDate}T00:00:00Z`),
    to: new Date(Date.parse(`${toDate}T00:00:00Z`) + DAY_MS),
  });
}
