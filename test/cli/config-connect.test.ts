// `payrecon config check --connect` as an operator runs it before the first night: the real CLI against the
// gateway simulators, a real sshd, a local folder and the test database; a failure names what failed and why.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { testDbPerSuite, testDbUrl } from '../helpers/db.js';
import { sshdUnavailable, startSshd, type SshdServer } from '../helpers/sshd.js';
import { startSandbox, sandboxProviders, type Sandbox } from '../schedule/sandbox.js';
import { PAYUNITY_EXAMPLE } from '../settlement/builders.js';

interface Check {
  check: string;
  provider?: string;
  target: string;
  ok: boolean;
  detail: string;
}
interface Out {
  ok: boolean;
  checks: Check[];
}

const unavailable = sshdUnavailable();
if (unavailable && process.env.PAYRECON_REQUIRE_SSHD === '1')
  throw new Error(`SFTP TESTS CANNOT RUN: ${unavailable}`);

describe.skipIf(unavailable !== null)('payrecon config check --connect', () => {
  const tdb = testDbPerSuite();
  let dir: string;
  let sandbox: Sandbox;
  let sshd: SshdServer;
  const env = { DATABASE_URL: undefined, PAYRECON_CONFIG: undefined };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'payrecon-connect-'));
    [sandbox, sshd] = await Promise.all([startSandbox(dir, '2026-11-20'), startSshd()]);
    mkdirSync(path.join(sshd.dataDir, 'out'), { recursive: true });
    writeFileSync(path.join(sshd.dataDir, 'out', 'PAYUNITY_SETTLEMENT_E1_20261119.csv'), PAYUNITY_EXAMPLE);
    writeFileSync(path.join(sshd.dataDir, 'out', 'PAYUNITY_SETTLEMENT_E1_20261120.csv'), PAYUNITY_EXAMPLE);
    writeFileSync(path.join(sshd.dataDir, 'out', 'notes.txt'), 'not a settlement file');
  }, 60_000);
  afterAll(async () => {
    sandbox?.stop();
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function writeConfig(name: string, over: { sftp?: object; dbUrl?: string; payunityToken?: string } = {}) {
    const providers = sandboxProviders(sandbox, { payunityToken: over.payunityToken });
    const sftp = {
      host: sshd.host,
      port: sshd.port,
      username: sshd.username,
      privateKeyPath: sshd.privateKeyPath,
      hostKeySha256: sshd.hostKeySha256,
      remoteDir: path.join(sshd.dataDir, 'out'),
      readyTimeoutSeconds: 10,
      ...over.sftp,
    };
    const file = path.join(dir, `${name}.yaml`);
    writeFileSync(
      file,
      stringify({
        timezone: 'Europe/Berlin',
        database: { url: over.dbUrl ?? testDbUrl(tdb.name) },
        reports: { dir: path.join(dir, 'reports') },
        providers: {
          payunity: { ...providers.payunity, settlement: { source: 'sftp', profile: 'payunity', sftp } },
          useepay: providers.useepay,
        },
      }),
    );
    return file;
  }

  const byName = (out: Out) =>
    Object.fromEntries(out.checks.map((c) => [c.provider ? `${c.provider} ${c.check}` : c.check, c]));

  it('reaches the database, both settlement sources and both gateways, and says what it found', async () => {
    const r = await runCli(['config', 'check', '--connect', '--json', '--config', writeConfig('good')], {
      env,
    });
    expect(r.stderr).not.toMatch(/payrecon: /);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Out;
    expect(out.ok).toBe(true);
    const c = byName(out);
    expect(Object.keys(c)).toEqual([
      'database',
      'payunity settlement',
      'payunity gateway',
      'useepay settlement',
      'useepay gateway',
    ]);
    expect(c.database!.detail).toMatch(/^PostgreSQL \d+\.\S*.*; schema up to date$/);
    expect(c.database!.target).not.toContain(':postgres@');
    expect(c['payunity settlement']!.target).toMatch(/^sftp:\/\//);
    expect(c['payunity settlement']!.detail).toBe(
      '3 file(s) listed, 2 named as the profile expects, the newest for 2026-11-20',
    );
    expect(c['useepay settlement']!.detail).toMatch(
      /named as the profile expects, the newest for 2026-11-20$/,
    );
    expect(c['payunity gateway']!.detail).toMatch(/^answered with these credentials/);
    expect(c['useepay gateway']!.detail).toMatch(/^answered with these credentials/);
  });

  it('names every failure, keeps checking the rest and exits 1, without printing a secret', async () => {
    const wrongKey = 'SHA256:' + 'A'.repeat(43);
    const file = writeConfig('bad', {
      sftp: { hostKeySha256: wrongKey },
      payunityToken: 'not-the-token',
      dbUrl: 'postgres://payrecon:secret-pw@127.0.0.1:9/nowhere',
    });
    const started = Date.now();
    const r = await runCli(['config', 'check', '--connect', '--config', file], { env });
    expect(r.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(60_000);
    const lines = r.stdout.trim().split('\n').slice(-5);
    expect(lines[0]).toMatch(
      /^FAIL {2}database {13}postgres:\/\/payrecon:.*@127\.0\.0\.1:9\/nowhere: cannot connect/,
    );
    expect(lines[1]).toMatch(/^FAIL {2}payunity settlement .*host key/i);
    expect(lines[2]).toMatch(/^FAIL {2}payunity gateway .*refused our credentials \(HTTP 401\)/);
    expect(lines[3]).toMatch(/^ok {4}useepay settlement/);
    expect(lines[4]).toMatch(/^ok {4}useepay gateway/);
    expect(r.stdout + r.stderr).not.toContain('secret-pw');
    expect(r.stdout + r.stderr).not.toContain('not-the-token');
    expect(r.stderr).toContain(
      'payrecon: 3 of 5 connection checks failed: database, payunity settlement, payunity gateway',
    );
  });

  it('reports the migrations a new database lacks and applies none of them', async () => {
    const empty = `${tdb.name}_empty`;
    await tdb.pool.query(`create database ${empty}`);
    try {
      const r = await runCli(
        [
          'config',
          'check',
          '--connect',
          '--json',
          '--config',
          writeConfig('empty', { dbUrl: testDbUrl(empty) }),
        ],
        { env },
      );
      expect(r.code).toBe(0);
      const db = byName(JSON.parse(r.stdout) as Out).database!;
      expect(db.detail).toMatch(
        /; \d+ migration\(s\) pending, \d{14}_initial to \d{14}_\w+ \(the next command applies them, or `payrecon migrate`\)$/,
      );
      const probe = new pg.Client({ connectionString: testDbUrl(empty) });
      await probe.connect();
      try {
        const { rows } = await probe.query<{ n: string }>(
          `select count(*) as n from pg_tables where schemaname = 'public'`,
        );
        expect(Number(rows[0]!.n)).toBe(0);
      } finally {
        await probe.end();
      }
    } finally {
      await tdb.pool.query(`drop database if exists ${empty} with (force)`);
    }
  });

  it('without --connect reaches nothing: an unreachable database is no error', async () => {
    const file = writeConfig('offline', { dbUrl: 'postgres://payrecon:pw@127.0.0.1:9/nowhere' });
    const r = await runCli(['config', 'check', '--json', '--config', file], { env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).not.toHaveProperty('checks');
  });
});
