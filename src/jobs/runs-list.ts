// The runs table as `payrecon runs` shows it. A run marked running while no process holds the run lock was
// interrupted (its process was killed): the next run records it as failed, and until then it is shown as what it is.
import type { Db } from '../db/connect.js';
import { runLockHeld } from '../db/lock.js';

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
