import type { Command } from 'commander';
import { listRuns, type ListedRun } from '../../jobs/runs-list.js';
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
        const rows = await ctx.withDatabase(loaded, (db) => listRuns(db.db, limit));
        ctx.result({ runs: rows }, () => formatRuns(rows));
      }),
    );
}

function formatRuns(rows: ListedRun[]): string {
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
        r.status === 'failed' || r.status === 'interrupted'
          ? `error: ${r.error ?? ''}`
          : `matched ${Number(r.counts.matched ?? 0)}, discrepancies ${total}`,
        r.reportPath ?? '',
      ];
      return parts.join('  ').trimEnd();
    })
    .join('\n');
}
