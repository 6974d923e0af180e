import { Command, InvalidArgumentError, Option } from 'commander';
import { PROVIDERS, type Config, type ProviderName } from '../config/schema.js';
import { selectedProviders } from '../jobs/context.js';
import { resolveRange, type DateRange } from '../shared/dates.js';
import { UsageError } from '../shared/errors.js';
import { TOOL_VERSION } from '../shared/version.js';
import { createContext, type CommandContext, type CommonOptions, type ContextDeps } from './context.js';
import * as commands from './commands/index.js';

export type Action<O> = (ctx: CommandContext, opts: O & CommonOptions, cmd: Command) => Promise<void>;

/** Turns a typed command handler into a commander action that builds the command's context. */
export interface Registrar {
  action<O>(fn: Action<O>): (...args: unknown[]) => Promise<void>;
}

/** --config, --json, --quiet, --verbose: accepted by every command. */
export function common(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'configuration file (default: $PAYRECON_CONFIG, else ./payrecon.config.yaml)')
    .option('--json', 'print one JSON object describing the result on stdout; logs go to stderr')
    .option('--quiet', 'only warnings and errors on stderr')
    .option('--verbose', 'debug logs, and stack traces on failure');
}

export interface RangeOptions {
  date?: string;
  from?: string;
  to?: string;
  provider?: ProviderName[];
}

/** --date D | --from D --to D, and --provider P (repeatable): the stage commands' selection. */
export function rangeOptions(cmd: Command): Command {
  return cmd
    .option('--date <date>', 'one day: YYYY-MM-DD, today or yesterday (default: yesterday)')
    .option('--from <date>', 'first day of a range (with --to)')
    .option('--to <date>', 'last day of a range, inclusive (with --from)')
    .addOption(
      new Option('--provider <name>', 'only this provider (repeatable; default: every enabled provider)')
        .choices([...PROVIDERS])
        // Replaces the parser .choices() installed, so it checks the choice itself.
        .argParser((v: string, prev: ProviderName[] | undefined) => {
          if (!(PROVIDERS as readonly string[]).includes(v))
            throw new InvalidArgumentError(`Allowed choices are ${PROVIDERS.join(', ')}.`);
          return [...(prev ?? []), v as ProviderName];
        }),
    );
}

/**
 * The dates and providers a command works on: --date or --from/--to on the command's clock (PAYRECON_NOW pins it),
 * and the enabled providers --provider selects (none, or one asked for that is not enabled, is a usage error).
 */
export function selectDatesAndProviders(
  ctx: CommandContext,
  config: Config,
  opts: RangeOptions,
): { range: DateRange; providers: ProviderName[] } {
  const range = resolveRange(opts, config.timezone, ctx.now());
  const providers = selectedProviders(config, opts.provider);
  const off = (opts.provider ?? []).filter((p) => !providers.includes(p));
  if (off.length > 0)
    throw new UsageError(
      `--provider ${off.join(', ')}: not configured, or not enabled, in the configuration (providers.${off[0]})`,
    );
  if (providers.length === 0)
    throw new UsageError('no enabled provider selected: check providers.*.enabled and --provider');
  return { range, providers };
}

/** The value of --run: a positive whole number that fits a run id, or a usage error saying what was given. */
export function parseRunId(text: string): number {
  const id = Number(text.trim());
  if (!/^[1-9]\d*$/.test(text.trim()) || !Number.isSafeInteger(id))
    throw new UsageError(`--run expects a run id (a positive whole number), got "${text}"`);
  return id;
}

export function buildProgram(deps: ContextDeps): Command {
  const registrar: Registrar = {
    action<O>(fn: Action<O>) {
      return async (...args: unknown[]) => {
        const cmd = args[args.length - 1] as Command;
        const opts = cmd.optsWithGlobals<O & CommonOptions>();
        await fn(createContext(opts, deps), opts, cmd);
      };
    },
  };
  const program = new Command('payrecon')
    .description(
      'Reconciles card payments: gateway APIs against settlement files, in Postgres, with a finance workbook.',
    )
    .version(TOOL_VERSION, '-V, --version')
    .configureOutput({
      writeOut: (s) => deps.stdout(s),
      writeErr: (s) => process.stderr.write(s),
      // One line, as every other error: "payrecon: unknown option '--bogus' (run with --help for usage)".
      outputError: (s, write) =>
        write(`${s.trim().replace(/^error: /, 'payrecon: ')} (run with --help for usage)\n`),
    })
    .exitOverride();
  for (const register of Object.values(commands)) register(program, registrar);
  program.commands.forEach((c) => c.exitOverride());
  return program;
}
