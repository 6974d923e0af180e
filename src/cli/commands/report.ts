import type { Command } from 'commander';
import { common, type Registrar } from '../program.js';
import { notBuilt } from './stub.js';

export function registerReport(program: Command, r: Registrar): void {
  common(program.command('report').description('(re)write the workbook of a run').requiredOption('--run <id>', 'run id'))
    .action(r.action(notBuilt('report')));
}
