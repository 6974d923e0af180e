import type { Command } from 'commander';
import { acquireRunLock } from '../../db/lock.js';
import { fetchSettlement, type FetchSummary } from '../../settlement/fetch.js';
import {
  common,
  rangeOptions,
  selectDatesAndProviders,
  type RangeOptions,
  type Registrar,
} from '../program.js';

export function registerFetch(program: Command, r: Registrar): void {
  common(
    rangeOptions(program.command('fetch').description('fetch and load settlement files for the dates')),
  ).action(
    r.action<RangeOptions>(async (ctx, opts) => {
      const loaded = ctx.loadConfig();
      const config = loaded.config;
      const { range, providers } = selectDatesAndProviders(ctx, config, opts);
      const summaries = await ctx.withDatabase(loaded, async (db) => {
        // The same lock as a run: loading while a run matches would change its inputs under it.
        const lock = await acquireRunLock(db.pool, `fetch ${range.from}..${range.to}`);
        try {
          const stage = ctx.stageContext(db, config, null);
          const out: FetchSummary[] = [];
          for (const p of providers) out.push(await fetchSettlement(stage, p, range));
          return out;
        } finally {
          await lock.release();
        }
      });
      ctx.result({ from: range.from, to: range.to, providers: summaries }, () => humanSummary(summaries));
    }),
  );
}

function humanSummary(summaries: FetchSummary[]): string {
  const lines: string[] = [];
  for (const s of summaries) {
    lines.push(
      `${s.provider}: ${s.files.length} file(s), ${s.loadedLines} line(s) loaded, ${s.rejectedLines} rejected`,
    );
    for (const f of s.files) {
      const counts =
        f.status === 'loaded' || f.status === 'corrected'
          ? ` ${f.loaded} loaded, ${f.rejected} rejected`
          : '';
      lines.push(`  ${f.status.padEnd(9)} ${f.name}${counts}${f.reason ? ` (${f.reason})` : ''}`);
    }
  }
  return lines.join('\n');
}
