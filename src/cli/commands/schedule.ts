import type { Command } from 'commander';
import { common, type Registrar } from '../program.js';
import type { ProviderName } from '../../config/schema.js';
import { ConfigError } from '../../shared/errors.js';

/** The `--provider P` values among the scheduled arguments (the run's own selection, for the notification). */
function providerArgs(args: readonly string[]): ProviderName[] {
  return args.flatMap((a, i) => (a === '--provider' && args[i + 1] ? [args[i + 1] as ProviderName] : []));
}

export function registerSchedule(program: Command, r: Registrar): void {
  common(program.command('schedule').description('stay running and start runs on the configured cron schedule'))
    .action(r.action(async (ctx, opts) => {
      const loaded = ctx.loadConfig();
      const { config } = loaded;
      const { args } = config.schedule;
      if (args.length === 0) throw new ConfigError('schedule.args: give the payrecon command to run, e.g. [run, --date, yesterday]');
      if (args[0] === 'schedule') throw new ConfigError('schedule.args: a scheduler cannot schedule itself');
      const [{ runScheduler }, { spawnCli, resolveBinPath }, { succeededRunSince }, { notifyRun }, { selectedProviders }] = await Promise.all([
        import('../../schedule/scheduler.js'),
        import('../../schedule/child.js'),
        import('../../schedule/catch-up.js'),
        import('../../notify/webhook.js'),
        import('../../jobs/context.js'),
      ]);
      const binPath = resolveBinPath();
      // The child reads the same file, prints its result as JSON for us, and logs at our level.
      const childArgs = [
        ...args,
        ...(loaded.file ? ['--config', loaded.file] : []),
        '--json',
        ...(opts.verbose ? ['--verbose'] : opts.quiet ? ['--quiet'] : []),
      ];
      const stats = await runScheduler({
        cron: config.schedule.cron,
        timeZone: config.schedule.timezone ?? config.timezone,
        args,
        catchUp: config.schedule.catchUp,
        log: ctx.log,
        signal: ctx.signal,
        start: () => spawnCli({ execPath: process.execPath, binPath, args: childArgs, env: ctx.env, stderr: process.stderr }),
        notify: (summary) => notifyRun(config, summary, { log: ctx.log }),
        succeededSince: (since) => ctx.withDatabase(loaded, (db) => succeededRunSince(db.db, since)),
        describe: (summary) => (summary.providers ? summary : { ...summary, providers: selectedProviders(config, providerArgs(args)) }),
      });
      ctx.result({ stopped: true, ...stats }, `scheduler stopped: ${stats.started} run(s) started, ${stats.skippedBusy + stats.skippedLocked} tick(s) skipped`);
    }));
}
