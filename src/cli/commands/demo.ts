import path from 'node:path';
import type { Command } from 'commander';
import { runDemo } from '../../jobs/demo.js';
import { formatRunResult } from '../../jobs/summary.js';
import { UsageError } from '../../shared/errors.js';
import { common, type Registrar } from '../program.js';

interface DemoCliOptions {
  dir: string;
  reports: string;
  seed: string;
  days: string;
  paymentsPerDay: string;
  port: string;
}

const whole = (name: string, v: string, min: number) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${name} must be a whole number ≥ ${min}, not "${v}"`);
  return n;
};

export function registerDemo(program: Command, r: Registrar): void {
  const demo = common(
    program
      .command('demo')
      .description(
        'the whole job on embedded defaults: embedded Postgres, sandbox gateways, local settlement folder; prints the report path',
      ),
  );
  // Accepted like every command's (interface.md, common options), but the demo builds its own.
  const config = demo.options.find((o) => o.long === '--config');
  if (config)
    config.description =
      'ignored: the demo runs on a configuration of its own (embedded database, simulators)';
  demo
    .option('--dir <dir>', 'folder for the demo database, inbox and archive', '.payrecon/demo')
    .option('--reports <dir>', 'where the workbook is written', 'reports')
    .option('--seed <n>', 'seed of the generated activity (same seed, same data)', '42')
    .option('--days <n>', 'days of activity, ending yesterday', '7')
    .option('--payments-per-day <n>', 'payments per provider per day', '40')
    .option('--port <n>', "port of the demo's embedded PostgreSQL", '25433')
    .action(
      r.action<DemoCliOptions>(async (ctx, opts) => {
        const outcome = await runDemo({
          dir: path.resolve(opts.dir),
          reportsDir: path.resolve(opts.reports),
          seed: whole('seed', opts.seed, 0),
          days: whole('days', opts.days, 1),
          paymentsPerDay: whole('payments-per-day', opts.paymentsPerDay, 1),
          port: whole('port', opts.port, 1024),
          log: ctx.log,
          signal: ctx.signal,
          now: ctx.now,
        });
        ctx.result(
          { ...outcome.result, plantedDiscrepancies: outcome.planted },
          () =>
            `${formatRunResult(outcome.result)}\n  (the sandbox planted ${outcome.planted} discrepancies; open the report to find them)`,
        );
      }),
    );
}
