import type { Command } from 'commander';
import { common, type Registrar } from '../program.js';
import { notBuilt } from './stub.js';

export function registerRuns(program: Command, r: Registrar): void {
  common(program.command('runs').description('recent runs, their status, counts and report paths'))
    .action(r.action(notBuilt('runs')));
}
