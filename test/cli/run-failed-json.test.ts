// A run that fails in a stage, under --json as cron's JSON-lines file gets it: one object, the shape of every other
// failure (status, exitCode, error) plus the run's id and dates.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { testDbPerSuite, testDbUrl } from '../helpers/db.js';

const tdb = testDbPerSuite();
const dir = mkdtempSync(path.join(os.tmpdir(), 'payrecon-run-failed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('a stage failure prints one object with runId, dates, status, exitCode and error, and exits 1', async () => {
  mkdirSync(path.join(dir, 'inbox'));
  const config = path.join(dir, 'payrecon.config.yaml');
  writeFileSync(
    config,
    stringify({
      database: { url: testDbUrl(tdb.name) },
      reports: { dir: path.join(dir, 'reports') },
      providers: {
        useepay: {
          // Nothing listens on port 9: the pull fails at once, without retries.
          baseUrl: 'http://127.0.0.1:9',
          merchantNo: '500000000007245',
          appId: 'a',
          apiKey: 'k',
          pull: { retries: 0 },
          settlement: { source: 'local', localDir: path.join(dir, 'inbox') },
        },
      },
    }),
  );
  const r = await runCli(['run', '--date', '2026-11-20', '--json', '--config', config], {
    env: { DATABASE_URL: undefined, PAYRECON_CONFIG: undefined },
  });
  expect(r.code).toBe(1);
  expect(r.stdout.trim().split('\n')).toHaveLength(1);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  expect(out).toEqual({
    runId: expect.any(Number),
    from: '2026-11-20',
    to: '2026-11-20',
    status: 'failed',
    error: expect.stringMatching(/useepay/),
    reportPath: null,
    exitCode: 1,
  });
  const runs = await tdb.db.selectFrom('runs').select(['id', 'status']).execute();
  expect(runs).toEqual([{ id: out.runId, status: 'failed' }]);
});
