import type { Command } from 'commander';
import { common, parseRunId, type Registrar } from '../program.js';

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
      const runId = parseRunId(opts.run);
      const loaded = ctx.loadConfig();
      const result = await ctx.withDatabase(loaded, async (db) => {
        const { writeReportDetailed } = await import('../../report/index.js');
        return writeReportDetailed(ctx.stageContext(db, loaded.config, runId), runId);
      });
      ctx.result(
        {
          runId,
          reportPath: result.path,
          ...(result.originalPath ? { originalReportPath: result.originalPath } : {}),
          rows: result.rows,
        },
        result.path,
      );
    }),
  );
}
