import type { Command } from 'commander';
import { acquireRunLock } from '../../db/lock.js';
import { pullProvider, type PullSummary } from '../../gateways/stage.js';
import { dateWindows } from '../../gateways/windows.js';
import { addDays } from '../../shared/dates.js';
import { createProgress } from '../../shared/progress.js';
import {
  common,
  rangeOptions,
  selectDatesAndProviders,
  type RangeOptions,
  type Registrar,
} from '../program.js';

export function registerPull(program: Command, r: Registrar): void {
  common(
    rangeOptions(
      program
        .command('pull')
        .description(
          'pull transactions from the gateway APIs for the dates (plus the trailing re-pull window)',
        ),
    ),
  ).action(
    r.action<RangeOptions>(async (ctx, opts) => {
      const loaded = ctx.loadConfig();
      const { config } = loaded;
      const { range, providers } = selectDatesAndProviders(ctx, config, opts);
      const summaries = await ctx.withDatabase(loaded, async (db) => {
        // The same lock as a run: pulling while a run matches would change its inputs under it, and two writers
        // of the same records at once may deadlock.
        const lock = await acquireRunLock(db.pool, `pull ${range.from}..${range.to}`);
        // A pull on its own belongs to no run: its windows are recorded with run_id null.
        const stage = ctx.stageContext(db, config, null);
        const out: PullSummary[] = [];
        try {
          for (const p of providers) {
            // A bar on a terminal only; cron, CI and --json get none.
            const days = dateWindows(
              addDays(range.from, -(config.providers[p]?.pull.trailingDays ?? 0)),
              range.to,
              config.timezone,
            ).length;
            const progress = createProgress(`pull ${p} (days)`, days, {
              json: ctx.opts.json,
              quiet: ctx.opts.quiet,
              env: ctx.env,
            });
            try {
              out.push(await pullProvider(stage, p, range, {}, { onDay: (done) => progress.update(done) }));
            } finally {
              progress.stop();
            }
          }
        } finally {
          await lock.release();
        }
        return out;
      });
      const total = (k: 'records' | 'rejected' | 'inserted' | 'updated' | 'unchanged') =>
        summaries.reduce((s, x) => s + x[k], 0);
      const result = {
        from: range.from,
        to: range.to,
        records: total('records'),
        rejected: total('rejected'),
        inserted: total('inserted'),
        updated: total('updated'),
        unchanged: total('unchanged'),
        providers: summaries,
      };
      ctx.result(result, () =>
        summaries
          .map(
            (s) =>
              `${s.provider}: ${s.records} records in ${s.windows.length} windows (${s.inserted} new, ${s.updated} changed, ${s.unchanged} unchanged)` +
              (s.rejected > 0
                ? `; ${s.rejected} rejected (not stored: see the workbook's Rejected lines or the log)`
                : ''),
          )
          .join('\n'),
      );
    }),
  );
}
