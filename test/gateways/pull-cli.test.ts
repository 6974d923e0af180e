// `payrecon pull` and `payrecon sandbox` as a user runs them: the real CLI in a subprocess.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_LOCK_KEY } from '../../src/db/lock.js';
import { buildSampleData } from '../../src/sandbox/server/sample-data.js';
import { startSandboxServers, type SandboxServers } from '../../src/sandbox/server/index.js';
import { BIN, runCli } from '../helpers/cli.js';
import { testDbPerSuite, testDbUrl } from '../helpers/db.js';
import { rawGatewayConfig } from './helpers.js';

const data = buildSampleData({
  from: '2026-11-10',
  days: 3,
  payunityPerDay: 150,
  useepayPerDay: 80,
  seed: 5,
});
let sim: SandboxServers;
const db = testDbPerSuite();
let dir: string;

function writeConfig(
  name: string,
  mutate: (c: ReturnType<typeof rawGatewayConfig>) => void = () => undefined,
): string {
  const c = rawGatewayConfig(sim, data.credentials, testDbUrl(db.name), {
    trailingDays: 1,
    timeoutSeconds: 5,
    retries: 1,
  });
  mutate(c);
  const file = path.join(dir, name);
  writeFileSync(file, stringify(c));
  return file;
}

beforeAll(async () => {
  sim = await startSandboxServers(data);
  dir = mkdtempSync(path.join(os.tmpdir(), 'payrecon-pull-cli-'));
});
afterAll(async () => {
  await sim?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('payrecon pull', () => {
  it('pulls both gateways for the dates plus the trailing day and prints the counts with --json', async () => {
    const file = writeConfig('ok.yaml');
    const res = await runCli([
      'pull',
      '--from',
      '2026-11-11',
      '--to',
      '2026-11-12',
      '--json',
      '--config',
      file,
    ]);
    expect(res.stderr).not.toMatch(/error/i);
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as {
      from: string;
      to: string;
      records: number;
      inserted: number;
      providers: { provider: string; records: number; windows: { endpoint: string; from: string }[] }[];
    };
    expect(out).toMatchObject({ from: '2026-11-11', to: '2026-11-12' });
    const stored = await db.db
      .selectFrom('gateway_transactions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(stored.n)).toBe(out.records);
    expect(out.inserted).toBe(out.records);
    const pu = out.providers.find((p) => p.provider === 'payunity')!;
    // trailingDays 1: three UTC days, 10th to 12th.
    expect(pu.windows.map((w) => w.from.slice(0, 10))).toEqual(['2026-11-10', '2026-11-11', '2026-11-12']);
    const ue = out.providers.find((p) => p.provider === 'useepay')!;
    expect(ue.windows).toHaveLength(6);
    expect(ue.records).toBe(data.useepay.intents.length + data.useepay.refunds.length);

    const again = await runCli([
      'pull',
      '--from',
      '2026-11-11',
      '--to',
      '2026-11-12',
      '--json',
      '--provider',
      'useepay',
      '--config',
      file,
    ]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      records: ue.records,
      inserted: 0,
      updated: 0,
      unchanged: ue.records,
    });
  });

  it('a wrong access token exits 1 with one line naming the provider and no secret', async () => {
    const file = writeConfig(
      'bad.yaml',
      (c) => (c.providers.payunity.accessToken = 'definitely-wrong-token'),
    );
    const res = await runCli(['pull', '--date', '2026-11-11', '--provider', 'payunity', '--config', file]);
    expect(res.code).toBe(1);
    const lines = res.stderr
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('payrecon:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/payunity refused our credentials.*check providers\.payunity\.accessToken/);
    expect(res.stderr).not.toContain('definitely-wrong-token');
  });

  it('a wrong UseePay API key exits 1 naming useepay', async () => {
    const file = writeConfig('bad-ue.yaml', (c) => (c.providers.useepay.apiKey = 'UseePay_SK_nope'));
    const res = await runCli(['pull', '--date', '2026-11-11', '--provider', 'useepay', '--config', file]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^payrecon: useepay refused our credentials/m);
  });

  it('exits 3 and writes nothing while a run holds the lock', async () => {
    const file = writeConfig('locked.yaml');
    const holder = new pg.Client({ connectionString: testDbUrl(db.name) });
    await holder.connect();
    try {
      await holder.query('select pg_advisory_lock($1)', [RUN_LOCK_KEY]);
      const before = await holder.query<{ n: number }>(
        'select (select count(*) from gateway_transactions)::int + (select count(*) from pull_windows)::int as n',
      );
      const res = await runCli(['pull', '--date', '2026-11-12', '--json', '--config', file]);
      expect(res.code).toBe(3);
      expect(JSON.parse(res.stdout)).toMatchObject({
        status: 'skipped',
        exitCode: 3,
        error: expect.stringMatching(/skipped pull 2026-11-12\.\.2026-11-12: another run holds the lock/),
      });
      const after = await holder.query<{ n: number }>(
        'select (select count(*) from gateway_transactions)::int + (select count(*) from pull_windows)::int as n',
      );
      expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
    } finally {
      await holder.end();
    }
  });
});

describe('payrecon sandbox', () => {
  it('serves the generated world, writes its settlement files, and exits 0 on SIGTERM', async () => {
    const out = path.join(dir, 'settlement');
    const child = spawn(
      process.execPath,
      [
        BIN,
        'sandbox',
        '--from',
        '2026-11-02',
        '--to',
        '2026-11-04',
        '--per-day',
        '5',
        '--out',
        out,
        '--json',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    for (let i = 0; i < 300 && !stdout.includes('\n'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(stdout, stderr).toContain('\n');
    const info = JSON.parse(stdout) as {
      payunityUrl: string;
      useepayUrl: string;
      credentials: typeof data.credentials;
      settlementFiles: string[];
    };
    const q = new URLSearchParams({
      entityId: info.credentials.payunity.entityId,
      'date.from': '2026-11-03 00:00:00',
      'date.to': '2026-11-03 23:59:59',
      pageNo: '1',
    });
    const res = await fetch(`${info.payunityUrl}/v3/query?${q.toString()}`, {
      headers: { authorization: `Bearer ${info.credentials.payunity.accessToken}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { records: unknown[] }).records.length).toBeGreaterThan(0);
    const ue = await fetch(`${info.useepayUrl}/api/v1/payment_intents?page_num=0&page_size=10`, {
      headers: {
        'x-merchant-no': info.credentials.useepay.merchantNo,
        'x-app-id': info.credentials.useepay.appId,
        'x-api-key': 'wrong',
      },
    });
    expect(ue.status).toBe(401);
    expect(info.settlementFiles.length).toBeGreaterThan(0);
    expect(
      readdirSync(path.join(out, 'payunity')).length + readdirSync(path.join(out, 'useepay')).length,
    ).toBe(info.settlementFiles.length);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
