import type { Command } from 'commander';
import { UsageError } from '../../shared/errors.js';
import { common, type Registrar } from '../program.js';

export function registerRuns(program: Command, r: Registrar): void {
  common(program.command('runs').description('recent runs, their status, counts and report paths'))
    .option('--limit <n>', 'how many runs to list', '20')
    .action(
      r.action<{ limit: string }>(async (ctx, opts) => {
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1)
          throw new UsageError(`--limit must be a positive whole number, not "${opts.limit}"`);
        const loaded = ctx.loadConfig();
        const runs = await ctx.withDatabase(loaded, (db) =>
          db.db
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
            .execute(),
        );
        const rows = runs.map((run) => ({
          runId: run.id,
          command: run.command,
          from: run.from_date,
          to: run.to_date,
          providers: run.providers,
          status: run.status,
          error: run.error,
          startedAt: run.started_at.toISOString(),
          finishedAt: run.finished_at?.toISOString() ?? null,
          counts: run.counts,
          reportPath: run.report_path,
        }));
        ctx.result({ runs: rows }, () => formatRuns(rows));
      }),
    );
}

type RunRow = {
  runId: number;
  command: string;
  from: string | null;
  to: string | null;
  status: string;
  error: string | null;
  startedAt: string;
  counts: Record<string, unknown>;
  reportPath: string | null;
};

function formatRuns(rows: RunRow[]): string {
  if (rows.length === 0) return 'no runs yet';
  return rows
    .map((r) => {
      const d = (r.counts.discrepancies ?? {}) as Record<string, number>;
      const total = Object.values(d).reduce((a, b) => a + b, 0);
      const parts = [
        `#${r.runId}`.padEnd(6),
        r.command.padEnd(6),
        `${r.from ?? ''}..${r.to ?? ''}`.padEnd(23),
        r.status.padEnd(10),
        r.startedAt.slice(0, 19).replace('T', ' '),
        r.status === 'failed'
          ? `error: ${r.error ?? ''}`
          : `matched ${Number(r.counts.matched ?? 0)}, discrepancies ${total}`,
        r.reportPath ?? '',
      ];
      return parts.join('  ').trimEnd();
    })
    .join('\n');
}
