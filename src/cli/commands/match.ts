import type { Command } from 'commander';
import { common, rangeOptions, type Registrar } from '../program.js';
import { notBuilt } from './stub.js';

export function registerMatch(program: Command, r: Registrar): void {
  common(rangeOptions(program.command('match').description('re-match stored data for the dates, without fetching or pulling')))
    .action(r.action(notBuilt('match')));
}
