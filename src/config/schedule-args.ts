// `schedule.args`: the payrecon command each tick of `payrecon schedule` starts. Checked as far as can be without
// starting anything, so that `config check` refuses what would make every nightly child exit 2.
import { z } from 'zod';
import { resolveDate } from '../shared/dates.js';

/** Every command of the CLI (interface.md); test/config keeps this equal to the program's own list. */
export const CLI_COMMANDS = [
  'run',
  'fetch',
  'pull',
  'match',
  'report',
  'refunds',
  'decisions',
  'runs',
  'schedule',
  'migrate',
  'config',
  'sandbox',
  'demo',
] as const;

const DATE_OPTIONS = ['--date', '--from', '--to'];

/**
 * Not empty, a command of the CLI other than `schedule`, and a date after each --date/--from/--to that the command
 * will take (YYYY-MM-DD, today or yesterday: `resolveDate` decides, as it does for the command). Everything else,
 * such as an option the command does not have, is left to the command.
 */
export const scheduleArgsSchema = z.array(z.string()).superRefine((args, ctx) => {
  const [command] = args;
  if (command === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: 'give the payrecon command to run, e.g. [run, --date, yesterday]',
    });
    return;
  }
  if (command === 'schedule')
    ctx.addIssue({ code: 'custom', path: [0], message: 'a scheduler cannot schedule itself' });
  else if (!(CLI_COMMANDS as readonly string[]).includes(command))
    ctx.addIssue({
      code: 'custom',
      path: [0],
      message: `unknown command "${command}": one of ${CLI_COMMANDS.filter((c) => c !== 'schedule').join(', ')}`,
    });
  args.forEach((arg, i) => {
    const [option = '', inline] = arg.split(/=(.*)/s, 2);
    if (!DATE_OPTIONS.includes(option)) return;
    const value = inline ?? args[i + 1];
    if (value === undefined) {
      ctx.addIssue({ code: 'custom', path: [i], message: `${option} needs a date` });
      return;
    }
    try {
      resolveDate(value, 'UTC');
    } catch (e) {
      ctx.addIssue({
        code: 'custom',
        path: [inline === undefined ? i + 1 : i],
        message: (e as Error).message,
      });
    }
  });
});
