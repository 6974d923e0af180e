// The scheduler driving real nightly runs: `payrecon sandbox` serves both gateways and writes their settlement
// files, `payrecon schedule` starts `run --date yesterday` every two seconds, and the webhook receives each run's
// summary.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDate } from '../../src/shared/dates.js';
import { BIN } from '../helpers/cli.js';
import { testDbPerSuite, testDbUrl } from '../helpers/db.js';
import { sandboxProviders, startSandbox, type Sandbox } from './sandbox.js';

const db = testDbPerSuite();
let dir: string;
let sandbox: Sandbox;
let server: Server;
const posts: Record<string, unknown>[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'payrecon-schedule-run-'));
  const yesterday = resolveDate('yesterday', 'UTC');
  sandbox = await startSandbox(dir, yesterday);
  server = createServer((req, res) => {
    let t = '';
    req
      .setEncoding('utf8')
      .on('data', (d: string) => (t += d))
      .on('end', () => {
        posts.push(JSON.parse(t));
        res.writeHead(200).end();
      });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
}, 120_000);

afterAll(async () => {
  sandbox.stop();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('payrecon schedule with real runs', () => {
  it('runs the nightly job on schedule, notifies its summary, and stops on SIGTERM', async () => {
    const configFile = path.join(dir, 'payrecon.config.yaml');
    writeFileSync(
      configFile,
      stringify({
        timezone: 'UTC',
        database: { url: testDbUrl(db.name) },
        reports: { dir: path.join(dir, 'reports') },
        providers: sandboxProviders(sandbox),
        schedule: { cron: '*/2 * * * * *', args: ['run', '--date', 'yesterday'] },
        notify: { webhookUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, retries: 1 },
      }),
    );
    const sched = spawn(process.execPath, [BIN, 'schedule', '--config', configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    sched.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((r) => sched.on('close', (code) => r(code)));
    try {
      // A whole nightly run of the real CLI: seconds here, much longer on a starved machine.
      const deadline = Date.now() + 60_000;
      while (posts.length === 0 && Date.now() < deadline && sched.exitCode === null)
        await new Promise((r) => setTimeout(r, 100));
      expect(posts.length, stderr).toBeGreaterThanOrEqual(1);
      sched.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (sched.exitCode === null) sched.kill('SIGKILL');
    }
    const post = posts[0] as {
      status: string;
      runId: number;
      reportPath: string;
      text: string;
      counts: Record<string, unknown>;
      providers: string[];
    };
    expect(post.status, post.text).toBe('succeeded');
    expect(post.providers).toEqual(['payunity', 'useepay']);
    expect(post.text).toMatch(
      new RegExp(`^payrecon run ${post.runId} payunity, useepay \\d{4}-\\d{2}-\\d{2}: succeeded; `),
    );
    expect(existsSync(post.reportPath)).toBe(true);
    expect(post.counts).toMatchObject({ matched: expect.any(Number), discrepancies: expect.any(Object) });
    const check = new pg.Client({ connectionString: testDbUrl(db.name) });
    await check.connect();
    try {
      const { rows } = await check.query<{ status: string; report_path: string }>(
        'select status, report_path from runs where id = $1',
        [post.runId],
      );
      expect(rows[0]).toMatchObject({ status: 'succeeded', report_path: post.reportPath });
      const { rows: running } = await check.query(`select id from runs where status = 'running'`);
      expect(running).toEqual([]);
    } finally {
      await check.end();
    }
    // Room for the wait above and for a run in progress at SIGTERM to reach its safe point (25 s grace at most).
  }, 120_000);
});
