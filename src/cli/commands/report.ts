import type { Command } from 'commander';
import { UsageError } from '../../shared/errors.js';
import { common, type Registrar } from '../program.js';

interface ReportOptions {
  run: string;
}

export function registerReport(program: Command, r: Registrar): void {
  common(
    program
      .command('report')
      .description('(re)write the workbook of a run')
      .requiredOption('--run <id>', 'run id'),
  ).action(
    r.action<ReportOptions>(async (ctx, opts) => {
      if (!/^[1-9]\d{0,15}$/.test(opts.run))
        throw new UsageError(`--run expects a run id (a positive whole number), got "${opts.run}"`);
      const runId = Number(opts.run);
      const loaded = ctx.loadConfig();
      const result = await ctx.withDatabase(loaded, async (db) => {
        const { writeReportDetailed } = await import('../../report/index.js');
        return writeReportDetailed(ctx.stageContext(db, loaded.config, runId), runId);
      });
      ctx.result({ runId, reportPath: result.path, rows: result.rows }, result.path);
    }),
  );
}
