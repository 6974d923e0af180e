import type { Command } from 'commander';
import { common, rangeOptions, type Registrar } from '../program.js';
import { notBuilt } from './stub.js';

export function registerRun(program: Command, r: Registrar): void {
  common(rangeOptions(program.command('run').description('the nightly job: fetch settlement files, load them, pull the gateways, match, write the report')))
    .action(r.action(notBuilt('run')));
}
