// crontab.example must work as written: its job line runs through sh with cron's bare environment (only the
// crontab's own variables), with the install, configuration and log folders substituted.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDate } from '../../src/shared/dates.js';
import { testDbPerSuite, testDbUrl } from '../helpers/db.js';
import { sandboxProviders, startSandbox, type Sandbox } from './sandbox.js';

const RUN_LOCK_KEY = 727_363_266; // src/db/lock.ts
const text = readFileSync('crontab.example', 'utf8');
const lines = text.split('\n');

const db = testDbPerSuite();
let tmp: string;
let subst: (s: string) => string;
let cronEnv: Record<string, string>;
let sandbox: Sandbox;
const yesterday = resolveDate('yesterday', 'Europe/Berlin');

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'payrecon-crontab-'));
  const etc = path.join(tmp, 'etc');
  const logs = path.join(tmp, 'log');
  mkdirSync(etc);
  mkdirSync(logs);
  subst = (s) =>
    s
      .replaceAll('/opt/payrecon', process.cwd())
      .replaceAll('/etc/payrecon', etc)
      .replaceAll('/var/log/payrecon', logs)
      .replaceAll('/usr/bin/node', process.execPath);
  // A successful night needs both gateways and their files: the sandbox. The PayUnity token reaches the
  // configuration only through the env file, which proves the job line loads it.
  sandbox = await startSandbox(tmp, yesterday);
  writeFileSync(
    path.join(etc, 'payrecon.config.yaml'),
    stringify({
      timezone: 'Europe/Berlin',
      database: { url: testDbUrl(db.name) },
      reports: { dir: path.join(tmp, 'reports') },
      providers: sandboxProviders(sandbox, { payunityToken: '${PAYUNITY_ACCESS_TOKEN}' }),
    }),
  );
  writeFileSync(
    path.join(etc, 'payrecon.env'),
    `PAYUNITY_ACCESS_TOKEN=${sandbox.credentials.payunity.accessToken}\n`,
    { mode: 0o600 },
  );
  cronEnv = {};
  for (const l of lines) {
    const m = /^([A-Z_]+)=(.*)$/.exec(l);
    if (m) cronEnv[m[1]!] = subst(m[2]!.replace(/^"(.*)"$/, '$1'));
  }
}, 120_000);
afterAll(() => {
  sandbox.stop();
});

/** The first schedule line: five time fields, then the command cron hands to $SHELL -c. */
function jobCommand(): string {
  const job = lines.find((l) => l.trim() !== '' && !l.startsWith('#') && !/^[A-Z_]+=/.test(l));
  const m = /^(\S+\s+){5}(.+)$/.exec(job ?? '');
  if (!m) throw new Error('no job line in crontab.example');
  return subst(m[2]!);
}

function sh(command: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

async function query<T extends pg.QueryResultRow>(q: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: testDbUrl(db.name) });
  await c.connect();
  try {
    return (await c.query<T>(q, params)).rows;
  } finally {
    await c.end();
  }
}

const logFile = () => path.join(cronEnv.LOGDIR!, 'run.log');
const jsonFile = () => path.join(cronEnv.LOGDIR!, 'run.jsonl');
const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');

describe('crontab.example', () => {
  it('documents the essentials', () => {
    expect(cronEnv).toMatchObject({
      CRON_TZ: expect.any(String),
      SHELL: '/bin/sh',
      PATH: expect.any(String),
      NODE: expect.any(String),
    });
    expect(jobCommand()).toContain('run --date yesterday --json');
    expect(text).toMatch(/flock/);
  });

  it('the nightly line exits 3 and logs why while another run holds the lock (no flock needed)', async () => {
    const holder = new pg.Client({ connectionString: testDbUrl(db.name) });
    await holder.connect();
    try {
      await holder.query('select pg_advisory_lock($1)', [RUN_LOCK_KEY]);
      const { code, out } = await sh(jobCommand(), cronEnv);
      expect(out).toBe(''); // everything went to the files: cron has nothing to mail
      expect(code).toBe(3);
      expect(read(logFile())).toMatch(/another run holds the lock/);
      // The JSON-lines file gets its line for this night too.
      expect(JSON.parse(read(jsonFile()).trim().split('\n').at(-1)!)).toMatchObject({
        status: 'skipped',
        exitCode: 3,
        error: expect.stringMatching(/another run holds the lock/),
      });
      expect(await query('select id from runs')).toEqual([]);
    } finally {
      await holder.end();
    }
  });

  it('the nightly line prints one line for cron to mail when the night fails, and keeps its exit code', async () => {
    // The env file is missing: the configuration's token variable is not set.
    const { code, out } = await sh(jobCommand(), { ...cronEnv, ENVFILE: path.join(tmp, 'no-such.env') });
    expect(code).toBe(2);
    expect(out).toBe(
      `payrecon: the nightly run failed (exit 2); see ${cronEnv.LOGDIR!}/run.log and ${cronEnv.LOGDIR!}/run.jsonl\n`,
    );
    expect(read(logFile())).toMatch(/PAYUNITY_ACCESS_TOKEN is not set/);
    expect(JSON.parse(read(jsonFile()).trim().split('\n').at(-1)!)).toMatchObject({
      status: 'failed',
      exitCode: 2,
    });
  });

  it('the nightly line runs yesterday (in the configured time zone), appending its JSON result and its logs', async () => {
    const before = read(logFile());
    const { code, out } = await sh(jobCommand(), cronEnv);
    expect(out).toBe('');
    expect(code, read(logFile())).toBe(0);
    const rows = await query<{
      id: number;
      from_date: string;
      to_date: string;
      status: string;
      report_path: string;
    }>(
      `select id, to_char(from_date, 'YYYY-MM-DD') as from_date, to_char(to_date, 'YYYY-MM-DD') as to_date, status, report_path from runs where command = 'run' order by id`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ from_date: yesterday, to_date: yesterday, status: 'succeeded' });
    const results = read(jsonFile())
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    // One JSON object per night: the skipped night's, the failed one's, then this run's.
    expect(results.map((r) => r.status)).toEqual(['skipped', 'failed', 'succeeded']);
    expect(results[2]).toMatchObject({
      runId: rows[0]!.id,
      status: 'succeeded',
      from: yesterday,
      to: yesterday,
      reportPath: rows[0]!.report_path,
    });
    expect(existsSync(rows[0]!.report_path)).toBe(true);
    const log = read(logFile());
    expect(log.startsWith(before)).toBe(true); // appended, not replaced
    expect(log).toMatch(/"msg":"run succeeded"/);
    expect(log).not.toContain(sandbox.credentials.payunity.accessToken);
  });

  it('the ad-hoc rerun line covers the given range and prints its result', async () => {
    const rerun = lines.find((l) => /^#\s+cd .*run --from /.test(l));
    expect(rerun).toBeDefined();
    const { code, out } = await sh(subst(rerun!.replace(/^#\s+/, '')), { PATH: cronEnv.PATH! });
    expect(code, out).toBe(0);
    const rows = await query<{ id: number; status: string }>(
      `select id, status from runs where command = 'run' and from_date = '2026-11-01' and to_date = '2026-11-07'`,
    );
    expect(rows).toEqual([{ id: expect.any(Number), status: 'succeeded' }]);
    expect(out).toContain(`run ${rows[0]!.id}`);
  });
});
