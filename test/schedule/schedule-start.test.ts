// `payrecon schedule` start-up: catch-up of a missed slot, and refusal of a bad cron expression.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testDbPerSuite } from '../helpers/db.js';
import { killSchedulers, startScheduler, writeConfig } from './scheduler-process.js';

const db = testDbPerSuite();
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'payrecon-schedule-start-'));
});
afterEach(killSchedulers);

describe('payrecon schedule start-up', () => {
  it('catches up at start when the last scheduled time has no successful run', async () => {
    // Hourly: the previous slot is under an hour ago and this fresh database has no successful run since.
    const s = startScheduler(
      writeConfig(dir, db.name, 'catchup', { cron: '0 * * * *', args: ['config', 'check'], catchUp: true }),
    );
    await s.until(() => s.count('tick finished') === 1, 'the catch-up run');
    expect(s.records.find((r) => r.msg === 'tick started')).toMatchObject({ reason: 'catch-up' });
    s.child.kill('SIGINT');
    expect(await s.exited).toBe(0);
  });

  it('refuses an invalid cron expression with exit code 2 naming the key', async () => {
    const s = startScheduler(writeConfig(dir, db.name, 'bad', { cron: '99 * * * *' }));
    expect(await s.exited).toBe(2);
    expect(s.records.map((r) => r.msg).join('\n')).toMatch(
      /schedule\.cron: invalid cron expression "99 \* \* \* \*"/,
    );
  });
});
