// The run's record in `runs`: its progress and end, the closing of runs a killed process left open, and the
// rejected lines it reports. Written only by the run (src/jobs/run.ts).
import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import type { DateRange } from '../shared/dates.js';
import type { Logger } from '../shared/log.js';
import type { RunCounts, RunManifest } from './manifest.js';

/** Writes the run's manifest and counts, with `finish` (status, error, end time, report) when it ends. */
export async function saveProgress(
  db: Db,
  runId: number,
  manifest: RunManifest,
  counts: RunCounts,
  finish: {
    status?: 'succeeded' | 'failed';
    error?: string;
    finished_at?: Date;
    report_path?: string | null;
  } = {},
): Promise<void> {
  await db
    .updateTable('runs')
    .set({ ...finish, manifest: JSON.stringify(manifest), counts: JSON.stringify(counts) })
    .where('id', '=', runId)
    .execute();
}

/**
 * We hold the run lock, so any run still marked running was interrupted (SIGKILL, power loss). Its stages were each
 * atomic, so the data is consistent; only its record needs closing.
 */
export async function closeInterruptedRuns(db: Db, log: Logger): Promise<void> {
  const closed = await db
    .updateTable('runs')
    .set({
      status: 'failed',
      error: 'interrupted (the process ended before the run finished)',
      finished_at: sql<Date>`now()`,
    })
    .where('status', '=', 'running')
    .returning('id')
    .execute();
  if (closed.length > 0) log.warn({ runs: closed.map((r) => r.id) }, 'closed runs that were interrupted');
}

/** Rejected lines of the loaded files of the range, and of those this run loaded (late files of other dates). */
export async function rejectedLinesOf(
  db: Db,
  providers: readonly string[],
  range: DateRange,
  runId: number,
): Promise<number> {
  const row = await db
    .selectFrom('rejected_lines as r')
    .innerJoin('settlement_files as f', 'f.id', 'r.file_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('f.provider', 'in', providers)
    .where((eb) =>
      eb.or([
        eb('f.run_id', '=', runId),
        eb.and([eb('f.settlement_date', '>=', range.from), eb('f.settlement_date', '<=', range.to)]),
      ]),
    )
    .where('f.status', '=', 'loaded')
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
