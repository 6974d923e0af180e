import type { Command } from 'commander';
import type { RunRequest } from '../../jobs/run.js';
import { executeRun } from '../../jobs/run.js';
import { defaultStages } from '../../jobs/stages.js';
import { formatRunResult } from '../../jobs/summary.js';
import { stageProgress } from '../../shared/progress.js';
import { RunFailedError } from '../../shared/errors.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import {
  common,
  rangeOptions,
  selectDatesAndProviders,
  type RangeOptions,
  type Registrar,
} from '../program.js';

export function registerRun(program: Command, r: Registrar): void {
  rangeOptions(
    common(
      program
        .command('run')
        .description(
          'the nightly job: fetch settlement files, load them, pull the gateways, match, write the report',
        ),
    ),
  ).action(r.action<RangeOptions>((ctx, opts) => runCommand(ctx, opts, 'run')));
}

/** `run` and `match` share everything but the stages they include. */
export async function runCommand(
  ctx: CommandContext,
  opts: RangeOptions & { report?: boolean },
  command: 'run' | 'match',
): Promise<void> {
  const loaded = ctx.loadConfig();
  const { config } = loaded;
  const { range, providers } = selectDatesAndProviders(ctx, config, opts);
  const req: RunRequest = {
    command,
    range,
    providers,
    stages:
      command === 'run'
        ? { fetch: true, pull: true, report: true }
        : { fetch: false, pull: false, report: opts.report ?? false },
  };
  // A bar over the stages on a terminal only (never in cron, CI or --json output).
  const perProvider = (req.stages.fetch ? 1 : 0) + (req.stages.pull ? 1 : 0);
  const progress = stageProgress(providers.length * perProvider + 2 + (req.stages.report ? 1 : 0), {
    json: ctx.opts.json,
    quiet: ctx.opts.quiet,
    env: ctx.env,
  });
  await ctx.withDatabase(loaded, async (db) => {
    try {
      const result = await executeRun(
        {
          db,
          config,
          log: ctx.log,
          signal: ctx.signal,
          now: ctx.now,
          stages: defaultStages({ config, log: ctx.log }),
          onStage: (stage, provider, state) => progress.onStage(stage, provider, state),
        },
        req,
      );
      progress.stop();
      ctx.result(result, () => formatRunResult(result));
    } catch (e) {
      progress.stop();
      // --json promises one object on stdout, failures included; the one-line message still goes to stderr.
      if (e instanceof RunFailedError && ctx.opts.json) {
        ctx.result(
          {
            runId: e.runId,
            from: range.from,
            to: range.to,
            status: 'failed',
            error: e.message,
            reportPath: null,
            // As every other failure's object under --json: a JSON-lines reader needs one shape for failures.
            exitCode: EXIT.failed,
          },
          '',
        );
      }
      throw e;
    }
  });
}
