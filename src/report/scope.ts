// What a report is about: one run, its dates, providers, time zone and "as of" date, read once.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../db/schema.js';
import { UsageError } from '../shared/errors.js';
import { isIsoDate, todayIn } from '../shared/dates.js';
import type { Snapshot } from './snapshot.js';

export interface RunRow {
  id: number;
  command: string;
  from_date: string | null;
  to_date: string | null;
  providers: string[];
  status: string;
  error: string | null;
  started_at: Date;
  finished_at: Date | null;
  tool_version: string;
  manifest: Record<string, unknown>;
  counts: Record<string, unknown>;
  report_path: string | null;
  /** started_at / finished_at as wall-clock text in the report's time zone. */
  started_local: string;
  finished_local: string | null;
}

export interface ReportScope {
  run: RunRow;
  runId: number;
  from: string;
  to: string;
  providers: string[];
  timeZone: string;
  holidays: readonly string[];
  /** The date ages are counted to: the run's "today" in the configured time zone (matching.md, "as of"). */
  asOf: string;
  /**
   * Runs started after this one over some of its dates and providers, oldest first. A workbook written after them
   * is not the one the run wrote: most figures are read as the database holds them now (docs/report.md).
   */
  laterRuns: number[];
  db: Kysely<Database>;
}

/** Wall-clock text of a timestamptz in a time zone, which the sheets turn into a real date cell. */
export function localTime(column: RawBuilder<unknown>, timeZone: string): RawBuilder<string> {
  return sql<string>`to_char(${column} at time zone ${timeZone}, 'YYYY-MM-DD"T"HH24:MI:SS')`;
}

export async function loadScope(
  snap: Snapshot,
  db: Kysely<Database>,
  runId: number,
  timeZone: string,
  holidays: readonly string[],
): Promise<ReportScope> {
  const rows = await snap.all(
    sql<RunRow>`
      select id, command, from_date, to_date, providers, status, error, started_at, finished_at, tool_version,
        manifest, counts, report_path,
        ${localTime(sql`started_at`, timeZone)} as started_local,
        ${localTime(sql`finished_at`, timeZone)} as finished_local
      from runs where id = ${runId}`.compile(db),
  );
  const run = rows[0];
  if (!run) throw new UsageError(`run ${runId} does not exist (see \`payrecon runs\`)`);
  if (!run.from_date || !run.to_date)
    throw new UsageError(`run ${runId} (${run.command}) has no date range to report on`);
  const manifestAsOf = run.manifest.asOf;
  const asOf =
    typeof manifestAsOf === 'string' && isIsoDate(manifestAsOf)
      ? manifestAsOf
      : todayIn(timeZone, run.started_at);
  const later = await snap.all(
    sql<{ id: number }>`
      select id from runs
      where id > ${runId} and from_date <= ${run.to_date} and to_date >= ${run.from_date}
        and providers && ${run.providers}::text[]
      order by id`.compile(db),
  );
  return {
    run,
    runId,
    from: run.from_date,
    to: run.to_date,
    providers: run.providers,
    timeZone,
    holidays,
    asOf,
    laterRuns: later.map((r) => r.id),
    db,
  };
}

/** Transaction times that fall on the scope's dates in its time zone: a range on the raw column, so indexes apply. */
export function inScopeDates(column: RawBuilder<unknown>, scope: ReportScope): RawBuilder<boolean> {
  return sql<boolean>`(${column} >= (${scope.from}::date)::timestamp at time zone ${scope.timeZone}
    and ${column} < (${scope.to}::date + 1)::timestamp at time zone ${scope.timeZone})`;
}
