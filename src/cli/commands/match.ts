import type { Command } from 'commander';
import { common, rangeOptions, type RangeOptions, type Registrar } from '../program.js';
import { runCommand } from './run.js';

export function registerMatch(program: Command, r: Registrar): void {
  rangeOptions(
    common(
      program.command('match').description('re-match stored data for the dates, without fetching or pulling'),
    ),
  )
    .option('--report', 'also write the workbook of this match')
    .action(r.action<RangeOptions & { report?: boolean }>((ctx, opts) => runCommand(ctx, opts, 'match')));
}
