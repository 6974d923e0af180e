import type { Command } from 'commander';
import { stringify } from 'yaml';
import { redactConfig } from '../../config/redact.js';
import { common, type Registrar } from '../program.js';

export function registerConfig(program: Command, r: Registrar): void {
  const config = program.command('config').description('configuration tools');
  common(config.command('check').description('validate the configuration and print it with secrets redacted'))
    .action(r.action(async (ctx) => {
      const loaded = ctx.loadConfig();
      const redacted = redactConfig(loaded.config);
      ctx.result({ ok: true, file: loaded.file, config: redacted }, () => `# ${loaded.file ?? ''}: valid\n${stringify(redacted)}`);
      return Promise.resolve();
    }));
}
