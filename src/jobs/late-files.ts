// Settlement files that should have arrived by now and have not: the run reports them so that finance does not
// read "nothing unsettled" when the truth is "nothing delivered".
import type { Config, ProviderName } from '../config/schema.js';
import type { Db } from '../db/connect.js';
import { isBusinessDay } from '../reconcile/calendar.js';
import type { UnloadedSettlementFile } from '../reconcile/types.js';
import { addDays, eachDate, type DateRange } from '../shared/dates.js';
import { isoInZone, zonedTimeToInstant } from '../shared/zoned-time.js';
import type { FetchOutcome } from './run.js';

export interface LateFile {
  provider: ProviderName;
  settlementDate: string;
  /**
   * When the file was due: `expectedBy` local time in the configured time zone on the settlement date, written as
   * that wall time with the zone's offset (`2026-11-20T12:00:00+01:00`), as the workbook and the summary show it.
   */
  expectedBy: string;
  /**
   * late: no file for the date; not_loaded: a file arrived but the last fetch (this run's, or for a run that did not
   * fetch, the stored one's) left it for the next (`files`).
   */
  status: 'late' | 'not_loaded';
  /** For not_loaded: the date's files the fetch listed and did not load, and why. */
  files?: { file: string; reason: string }[];
}

/** A file of a settlement date that a fetch listed and left for the next fetch (unreadable, too young…). */
export interface UnloadedFile {
  settlementDate: string;
  file: string;
  reason: string;
}

/**
 * The files a fetch of `provider` listed and left for the next fetch (`retryNextFetch`: unreadable, gone, modified
 * too recently, not the size listed), with their date when the name gives one. A file refused for good (an unsafe
 * name, rejected whole, a copy) is not among them: no later fetch loads it as it stands.
 */
export function leftForNextFetch(
  provider: ProviderName,
  fetched: FetchOutcome | undefined,
): UnloadedSettlementFile[] {
  return (fetched?.files ?? []).flatMap((f) =>
    f.retryNextFetch
      ? [
          {
            provider,
            settlementDate: f.settlementDate ?? null,
            file: f.name,
            reason: f.reason ?? 'not loaded',
          },
        ]
      : [],
  );
}

/** Dates a provider delivers a file for: every day, or business days (no weekend, no configured holiday). */
export function expectedSettlementDates(config: Config, provider: ProviderName, range: DateRange): string[] {
  const settlement = config.providers[provider]?.settlement;
  if (!settlement) return [];
  const dates = eachDate(range.from, range.to);
  if (settlement.expectedOn === 'every_day') return dates;
  const holidays = new Set(config.holidays);
  return dates.filter((d) => isBusinessDay(d, holidays));
}

/**
 * Expected settlement dates whose deadline has passed at `now` and for which no file was recorded (loaded, rejected
 * or superseded all count: a rejected file arrived, and says so elsewhere): every such date of `range`, and of the
 * `lookBackDays` before it those from the provider's first recorded file on. So a file still missing is reported by
 * every nightly run of the following week, not only on the night it fell due, while dates before payrecon ever had
 * a file from the provider (a new installation) are not. Two small queries per call. A date whose file arrived but
 * was left for the next fetch (`unloaded`: unreadable, modified too recently, not the size listed) is `not_loaded`
 * with those files, not `late`: something did arrive, and the reason is not the sender's delay.
 */
export async function findLateFiles(
  db: Db,
  config: Config,
  provider: ProviderName,
  range: DateRange,
  now: Date,
  lookBackDays = 0,
  unloaded: readonly UnloadedFile[] = [],
): Promise<LateFile[]> {
  const settlement = config.providers[provider]?.settlement;
  if (!settlement) return [];
  const before: DateRange = { from: addDays(range.from, -lookBackDays), to: addDays(range.from, -1) };
  let earlier = lookBackDays > 0 ? expectedSettlementDates(config, provider, before) : [];
  if (earlier.length > 0) {
    const first = await db
      .selectFrom('settlement_files')
      .select((eb) => eb.fn.min('settlement_date').as('first'))
      .where('provider', '=', provider)
      .executeTakeFirst();
    const since = first?.first ?? null;
    earlier = since === null ? [] : earlier.filter((d) => d >= since);
  }
  const due = [...earlier, ...expectedSettlementDates(config, provider, range)]
    .map((settlementDate) => ({
      settlementDate,
      at: zonedTimeToInstant(settlementDate, settlement.expectedBy, config.timezone),
    }))
    .filter((d) => d.at.getTime() <= now.getTime());
  if (due.length === 0) return [];
  const rows = await db
    .selectFrom('settlement_files')
    .select('settlement_date')
    .distinct()
    .where('provider', '=', provider)
    .where('settlement_date', '>=', earlier[0] ?? range.from)
    .where('settlement_date', '<=', range.to)
    .execute();
  const arrived = new Set(rows.map((r) => r.settlement_date));
  return due
    .filter((d) => !arrived.has(d.settlementDate))
    .map((d): LateFile => {
      const expectedBy = isoInZone(d.at, config.timezone);
      const files = unloaded
        .filter((u) => u.settlementDate === d.settlementDate)
        .map((u) => ({ file: u.file, reason: u.reason }));
      return files.length === 0
        ? { provider, settlementDate: d.settlementDate, expectedBy, status: 'late' }
        : { provider, settlementDate: d.settlementDate, expectedBy, status: 'not_loaded', files };
    });
}
