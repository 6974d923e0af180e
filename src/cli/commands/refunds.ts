import type { Command } from 'commander';
import { common, type Registrar } from '../program.js';
import { notBuilt } from './stub.js';

export function registerRefunds(program: Command, r: Registrar): void {
  const refunds = program.command('refunds').description('corrective refunds: plan, then execute with approval');
  common(refunds.command('plan').description('propose corrective refunds for the discrepancies of a run').requiredOption('--run <id>', 'run id'))
    .action(r.action(notBuilt('refunds plan')));
  common(
    refunds
      .command('execute')
      .description('send approved refunds, exactly once')
      .requiredOption('--run <id>', 'run id')
      .option('--approve <ids...>', 'discrepancy ids to approve')
      .option('--approval-file <file>', 'the report workbook with REFUND chosen in the Action column'),
  ).action(r.action(notBuilt('refunds execute')));
}
