import type { Command } from 'commander';
import { common, rangeOptions, type Registrar } from '../program.js';
import { notBuilt } from './stub.js';

export function registerFetch(program: Command, r: Registrar): void {
  common(rangeOptions(program.command('fetch').description('fetch and load settlement files for the dates')))
    .action(r.action(notBuilt('fetch')));
}
