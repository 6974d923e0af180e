import type { Command } from 'commander';
import { stringify } from 'yaml';
import { redactConfig } from '../../config/redact.js';
import { PROVIDERS } from '../../config/schema.js';
import { ConfigError, PayreconError } from '../../shared/errors.js';
import { readPrivateKey } from '../../sources/sftp.js';
import { checkReach, formatReach, reachName } from './config-reach.js';
import { common, type Registrar } from '../program.js';

export function registerConfig(program: Command, r: Registrar): void {
  const config = program.command('config').description('configuration tools');
  common(
    config
      .command('check')
      .description('validate the configuration and print it with secrets redacted')
      .option(
        '--connect',
        'also reach what it names: the database (not migrated), each settlement source (listed, nothing ' +
          'downloaded) and each gateway API (one page of the last minute); sends nothing; exit 1 when one fails',
      ),
  ).action(
    r.action(async (ctx, opts: { connect?: boolean }) => {
      const loaded = ctx.loadConfig();
      // Loading validated everything in the file, settlement profiles and their date formats included. Files named
      // by the configuration are checked too: a missing key otherwise shows only when a run connects.
      const problems: string[] = [];
      for (const provider of PROVIDERS) {
        const p = loaded.config.providers[provider];
        if (!p) continue;
        const key = p.settlement.sftp?.privateKeyPath;
        if (key !== undefined && p.settlement.source === 'sftp') {
          try {
            readPrivateKey(key, `providers.${provider}.settlement.sftp`);
          } catch (e) {
            problems.push((e as Error).message);
          }
        }
      }
      if (problems.length > 0) throw new ConfigError(problems.join('; '));
      const redacted = redactConfig(loaded.config);
      if (!opts.connect) {
        ctx.result(
          { ok: true, file: loaded.file, config: redacted },
          () => `# ${loaded.file ?? ''}: valid\n${stringify(redacted)}`,
        );
        return;
      }
      const checks = await checkReach(loaded.config, { log: ctx.log, now: ctx.now });
      const failed = checks.filter((c) => !c.ok);
      ctx.result(
        { ok: failed.length === 0, file: loaded.file, config: redacted, checks },
        () => `# ${loaded.file ?? ''}: valid\n${stringify(redacted)}\n${formatReach(checks)}`,
      );
      if (failed.length > 0)
        throw new PayreconError(
          `${failed.length} of ${checks.length} connection checks failed: ${failed.map(reachName).join(', ')}`,
        );
    }),
  );
}
