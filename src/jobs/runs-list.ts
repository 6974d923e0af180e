// The runs table as `payrecon runs` shows it. A run marked running while no process holds the run lock was
// interrupted (its process was killed): the next run records it as failed, and until then it is shown as what it is.
import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import { RUN_LOCK_KEY } from '../db/lock.js';

export interface ListedRun {
  runId: number;
  command: string;
  from: string | null;
  to: string | null;
  providers: string[];
  /** running, succeeded, failed; or interrupted: marked running, but no process holds the run lock. */
  status: string;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
  counts: Record<string, unknown>;
  reportPath: string | null;
}

export const INTERRUPTED_ERROR =
  'the process ended before the run finished (no process holds the run lock); the next run records it as failed';

export async function listRuns(db: Db, limit: number): Promise<ListedRun[]> {
  const runs = await db
    .selectFrom('runs')
    .select([
      'id',
      'command',
      'from_date',
      'to_date',
      'providers',
      'status',
      'error',
      'started_at',
      'finished_at',
      'counts',
      'report_path',
    ])
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  // Only asked when a run claims to be running; the lock is taken before a run's record is written.
  const held = runs.some((r) => r.status === 'running') ? await runLockHeld(db) : true;
  return runs.map((run) => {
    const interrupted = run.status === 'running' && !held;
    return {
      runId: run.id,
      command: run.command,
      from: run.from_date,
      to: run.to_date,
      providers: run.providers,
      status: interrupted ? 'interrupted' : run.status,
      error: interrupted ? INTERRUPTED_ERROR : run.error,
      startedAt: run.started_at.toISOString(),
      finishedAt: run.finished_at?.toISOString() ?? null,
      counts: run.counts,
      reportPath: run.report_path,
    };
  });
}

/** Whether any session of this database holds the run lock (read from pg_locks: taking it would race a run). */
async function runLockHeld(db: Db): Promise<boolean> {
  const { rows } = await sql<{ held: boolean }>`
    select exists (
      select 1 from pg_locks l
      where l.locktype = 'advisory' and l.granted and l.classid = 0 and l.objid = ${RUN_LOCK_KEY} and l.objsubid = 1
        and l.database = (select oid from pg_database where datname = current_database())
    ) as held`.execute(db);
  return rows[0]?.held ?? false;
}
