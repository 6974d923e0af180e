import type { Command } from 'commander';
import { stringify } from 'yaml';
import { redactConfig } from '../../config/redact.js';
import { PROVIDERS } from '../../config/schema.js';
import { ConfigError } from '../../shared/errors.js';
import { resolveProfile } from '../../settlement/profiles/index.js';
import { common, type Registrar } from '../program.js';

export function registerConfig(program: Command, r: Registrar): void {
  const config = program.command('config').description('configuration tools');
  common(
    config.command('check').description('validate the configuration and print it with secrets redacted'),
  ).action(
    r.action(async (ctx) => {
      const loaded = ctx.loadConfig();
      // Compiling each settlement profile catches what the schema cannot (e.g. unknown date tokens), before any fetch.
      for (const provider of PROVIDERS) {
        const p = loaded.config.providers[provider];
        if (!p) continue;
        try {
          resolveProfile(p.settlement.profile);
        } catch (e) {
          throw new ConfigError(`providers.${provider}.settlement.profile: ${(e as Error).message}`, {
            cause: e,
          });
        }
      }
      const redacted = redactConfig(loaded.config);
      ctx.result(
        { ok: true, file: loaded.file, config: redacted },
        () => `# ${loaded.file ?? ''}: valid\n${stringify(redacted)}`,
      );
      return Promise.resolve();
    }),
  );
}
