import type { Command } from 'commander';
import { common, type Registrar } from '../program.js';
import { notBuilt } from './stub.js';

export function registerSchedule(program: Command, r: Registrar): void {
  common(program.command('schedule').description('stay running and start runs on the configured cron schedule'))
    .action(r.action(notBuilt('schedule')));
}
