import path from 'node:path';
import type { Command } from 'commander';
import { formatDecisionImport, importDecisions } from '../../decisions/index.js';
import { readActionRows } from '../../report/approval-reader.js';
import { common, type Registrar } from '../program.js';

export function registerDecisions(program: Command, r: Registrar): void {
  const decisions = program
    .command('decisions')
    .description("finance's decisions on discrepancies (the workbook's Action column)");
  common(
    decisions
      .command('import')
      .description(
        'record the Action chosen on each row of a report workbook (REFUND, IGNORE, INVESTIGATE); the next reports show IGNORE and INVESTIGATE again. Sends nothing: refunds go through `refunds execute`',
      )
      .argument('<file>', 'a report workbook (.xlsx) as finance saved it'),
  ).action(
    r.action<Record<string, never>>(async (ctx, _opts, cmd) => {
      const file = path.resolve(cmd.args[0]!);
      const loaded = ctx.loadConfig();
      // A missing or unreadable workbook is said before any database is started or migrated.
      const read = await readActionRows(file);
      const result = await ctx.withDatabase(loaded, (db) => importDecisions(db.db, file, ctx.now(), read));
      ctx.result(result, () => formatDecisionImport(result));
    }),
  );
}
