import type { Command } from 'commander';
import { common, type Registrar } from '../program.js';
import { notBuilt } from './stub.js';

export function registerSandbox(program: Command, r: Registrar): void {
  common(program.command('sandbox').description('start the gateway simulators (and write their settlement files) for trying the tool without accounts'))
    .action(r.action(notBuilt('sandbox')));
}
