import type { Command } from 'commander';
import { common, type Registrar } from '../program.js';
import type { Config, ProviderName } from '../../config/schema.js';
import { selectedProviders } from '../../jobs/context.js';
import type { RunSummary } from '../../notify/summary.js';
import { resolveRange } from '../../shared/dates.js';

/** The value after each `--name` among the scheduled arguments. */
function argValues(args: readonly string[], name: string): string[] {
  return args.flatMap((a, i) => (a === name && args[i + 1] !== undefined ? [args[i + 1] as string] : []));
}

/**
 * What a failed run did not get to print (its providers and dates), from its own arguments, so the notification
 * still says which run failed. Dates resolve as the child did, give or take a midnight.
 */
function fillIn(summary: RunSummary, args: readonly string[], config: Config): RunSummary {
  const out = { ...summary };
  out.providers ??= selectedProviders(config, argValues(args, '--provider') as ProviderName[]);
  if (out.from === undefined && args[0] === 'run') {
    try {
      const [date, from, to] = ['--date', '--from', '--to'].map((n) => argValues(args, n)[0]);
      Object.assign(out, resolveRange({ date, from, to }, config.timezone));
    } catch {
      // unusable arguments: the child said so itself, and the summary carries its message
    }
  }
  return out;
}

export function registerSchedule(program: Command, r: Registrar): void {
  common(
    program.command('schedule').description('stay running and start runs on the configured cron schedule'),
  ).action(
    r.action(async (ctx, opts) => {
      const loaded = ctx.loadConfig();
      const { config } = loaded;
      // Loading checked schedule.cron and schedule.args (src/config/schedule-args.ts).
      const { args } = config.schedule;
      const [{ runScheduler }, { spawnCli, resolveBinPath }, { succeededRunSince }, { notifyRun }] =
        await Promise.all([
          import('../../schedule/scheduler.js'),
          import('../../schedule/child.js'),
          import('../../schedule/catch-up.js'),
          import('../../notify/webhook.js'),
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
        start: () =>
          spawnCli({
            execPath: process.execPath,
            binPath,
            args: childArgs,
            env: ctx.env,
            stderr: process.stderr,
          }),
        notify: (summary) => notifyRun(config, summary, { log: ctx.log }),
        succeededSince: (since) => ctx.withDatabase(loaded, (db) => succeededRunSince(db.db, since)),
        describe: (summary) => fillIn(summary, args, config),
      });
      ctx.result(
        { stopped: true, ...stats },
        `scheduler stopped: ${stats.started} run(s) started, ${stats.skippedBusy + stats.skippedLocked} tick(s) skipped`,
      );
    }),
  );
}
