// schedule.cron and schedule.args are checked when the configuration loads, by the scheduler's own rules: what
// `payrecon schedule` would refuse, or what would make every scheduled run exit 2, fails `config check` too.
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { parseConfig } from '../../src/config/load.js';
import { CLI_COMMANDS } from '../../src/config/schedule-args.js';
import { validateCron } from '../../src/schedule/cron-time.js';
import { ConfigError } from '../../src/shared/errors.js';

const withSchedule = (schedule: Record<string, unknown>) => ({
  providers: {
    payunity: {
      baseUrl: 'https://eu-test.oppwa.com',
      entityId: 'e',
      accessToken: 'tok-123456',
      settlement: { source: 'local', localDir: './inbox' },
    },
  },
  schedule,
});

function problems(schedule: Record<string, unknown>): string[] {
  try {
    parseConfig(withSchedule(schedule), {});
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message.split('; ');
  }
  return [];
}

describe('schedule configuration', () => {
  it('refuses a cron expression with the message the scheduler gives', () => {
    let scheduler = '';
    try {
      validateCron('61 2 * * *');
    } catch (e) {
      scheduler = (e as Error).message;
    }
    expect(scheduler).toMatch(/^schedule\.cron: invalid cron expression "61 2 \* \* \*" \(minute: /);
    expect(problems({ cron: '61 2 * * *' })).toEqual([scheduler]);
    expect(problems({ cron: 'nightly' })).toEqual([
      expect.stringMatching(/^schedule\.cron: invalid cron expression "nightly"/),
    ]);
    expect(problems({ cron: '*/2 * * * * *' })).toEqual([]);
  });

  it('refuses arguments that no scheduled run could start with', () => {
    expect(problems({ args: [] })).toEqual([
      'schedule.args: give the payrecon command to run, e.g. [run, --date, yesterday]',
    ]);
    expect(problems({ args: ['schedule'] })).toEqual(['schedule.args.0: a scheduler cannot schedule itself']);
    expect(problems({ args: ['runn', '--date', 'yesterday'] })).toEqual([
      expect.stringMatching(/^schedule\.args\.0: unknown command "runn": one of run, fetch, /),
    ]);
    expect(problems({ args: ['run', '--date', 'bogus'] })).toEqual([
      'schedule.args.2: invalid date "bogus": expected YYYY-MM-DD, today or yesterday',
    ]);
    expect(problems({ args: ['fetch', '--from=2026-02-30', '--to', 'today'] })).toEqual([
      'schedule.args.1: invalid date "2026-02-30": expected YYYY-MM-DD, today or yesterday',
    ]);
    expect(problems({ args: ['pull', '--to'] })).toEqual(['schedule.args.1: --to needs a date']);
  });

  it('takes what the commands take', () => {
    for (const args of [
      ['run', '--date', 'yesterday'],
      ['run', '--from', '2026-11-01', '--to', 'yesterday', '--provider', 'payunity'],
      ['fetch', '--date=today'],
      ['refunds', 'plan', '--run', '1'],
      ['config', 'check'],
    ])
      expect(problems({ args })).toEqual([]);
    expect(parseConfig(withSchedule({}), {}).config.schedule).toMatchObject({
      cron: '30 2 * * *',
      args: ['run', '--date', 'yesterday'],
    });
  });

  it('knows every command of the program, and only those', () => {
    const program = buildProgram({
      env: {},
      signal: new AbortController().signal,
      onShutdown: () => () => undefined,
      stdout: () => undefined,
    });
    expect([...CLI_COMMANDS].sort()).toEqual(program.commands.map((c) => c.name()).sort());
  });
});
