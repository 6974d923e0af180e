import type { Command } from 'commander';
import { common, rangeOptions, type Registrar } from '../program.js';
import { notBuilt } from './stub.js';

export function registerPull(program: Command, r: Registrar): void {
  common(rangeOptions(program.command('pull').description('pull transactions from the gateway APIs for the dates')))
    .action(r.action(notBuilt('pull')));
}
