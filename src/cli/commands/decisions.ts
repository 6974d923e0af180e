import path from 'node:path';
import type { Command } from 'commander';
import { formatDecisionImport, importDecisions } from '../../decisions/index.js';
import { checkWorkbook } from '../../report/approval-reader.js';
import { common, type Registrar } from '../program.js';

interface ImportOptions {
  overruleNewer?: boolean;
  acceptChangedFigures?: boolean;
}

export function registerDecisions(program: Command, r: Registrar): void {
  const decisions = program
    .command('decisions')
    .description("finance's decisions on discrepancies (the workbook's Action column)");
  common(
    decisions
      .command('import')
      .description(
        'record the Action chosen on each row of a report workbook (REFUND, IGNORE, INVESTIGATE; an Action the workbook started with and that was cleared withdraws the decision); the next reports show IGNORE and INVESTIGATE again. Sends nothing: refunds go through `refunds execute`',
      )
      .argument('<file>', 'a report workbook (.xlsx) as finance saved it')
      .option(
        '--overrule-newer',
        'record Actions changed in the workbook over decisions recorded after it was written (refused otherwise)',
      )
      .option(
        '--accept-changed-figures',
        'record REFUND and IGNORE on rows whose amounts or currency changed since the workbook was written (refused otherwise)',
      ),
  ).action(
    r.action<ImportOptions>(async (ctx, opts, cmd) => {
      const file = path.resolve(cmd.args[0]!);
      const loaded = ctx.loadConfig();
      // A missing or unreadable workbook is said before any database is started or migrated.
      await checkWorkbook(file);
      const result = await ctx.withDatabase(loaded, (db) =>
        importDecisions(db.db, file, ctx.now(), {
          overruleNewer: opts.overruleNewer === true,
          acceptChangedFigures: opts.acceptChangedFigures === true,
        }),
      );
      ctx.result(result, () => formatDecisionImport(result));
    }),
  );
}
