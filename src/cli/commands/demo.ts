import type { Command } from 'commander';
import { common, type Registrar } from '../program.js';
import { notBuilt } from './stub.js';

export function registerDemo(program: Command, r: Registrar): void {
  common(program.command('demo').description('the whole job on embedded defaults: embedded Postgres, sandbox gateways, local settlement folder'))
    .action(r.action(notBuilt('demo')));
}
