// The CLI as a user runs it: a subprocess over the build, with configuration files in a temporary folder.
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbedded } from '../../src/db/embedded.js';
import { runCli } from '../helpers/cli.js';
import { serverPort } from '../../src/shared/free-port.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'payrecon-cli-'));
chmodSync(dir, 0o755); // as root, the embedded server's own user must reach its data directory
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = 'UseePay_SK_do_not_print_me';
const env = { USEEPAY_API_KEY: SECRET, DATABASE_URL: undefined, PAYRECON_CONFIG: undefined };

function configFile(name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, body);
  return file;
}

const provider = `
providers:
  useepay:
    baseUrl: https://openapi1.uat.useepay.com
    merchantNo: '500000000007245'
    appId: www.pay.com
    apiKey: \${USEEPAY_API_KEY}
    settlement: { source: local, localDir: ./inbox }
`;

describe('payrecon CLI foundation', () => {
  it('lists every command of the contract in --help', async () => {
    const r = await runCli(['--help'], { env });
    expect(r.code).toBe(0);
    for (const cmd of [
      'run',
      'fetch',
      'pull',
      'match',
      'report',
      'refunds',
      'runs',
      'schedule',
      'migrate',
      'config',
      'sandbox',
      'demo',
    ]) {
      expect(r.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
    }
  });

  it('an unreachable database: one line saying what to check, and one JSON object under --json', async () => {
    const file = configFile('nodb.yaml', provider);
    const r = await runCli(['runs', '--config', file, '--json'], {
      env: { ...env, DATABASE_URL: 'postgres://u:sEcReT@127.0.0.1:1/db' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^payrecon: cannot connect to PostgreSQL at postgres:\/\/u:redacted@127\.0\.0\.1:1\/db: .*; check database\.url \(or DATABASE_URL\)/m,
    );
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'failed', exitCode: 1 });
    expect(r.stdout + r.stderr).not.toContain('sEcReT');
  });

  it('config check validates and prints with secrets redacted', async () => {
    const file = configFile('ok.yaml', provider);
    const r = await runCli(['config', 'check', '--config', file], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('merchantNo: "500000000007245"');
    expect(r.stdout).toContain('[redacted]');
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    // --quiet quiets the logs, not the result the command was asked for.
    const quiet = await runCli(['config', 'check', '--config', file, '--quiet'], { env });
    expect(quiet.stdout).toBe(r.stdout);
    const json = await runCli(['config', 'check', '--config', file, '--json'], { env });
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: true,
      config: { providers: { useepay: { apiKey: '[redacted]' } } },
    });
  });

  it.each([
    [
      'wrong type',
      `${provider}    settlementLagDays: soon\n`,
      {},
      /^payrecon: providers\.useepay\.settlementLagDays: /,
    ],
    [
      'missing variable',
      provider,
      { USEEPAY_API_KEY: undefined },
      /^payrecon: providers\.useepay\.apiKey: environment variable USEEPAY_API_KEY is not set$/,
    ],
    ['unknown key', `${provider}colour: blue\n`, {}, /^payrecon: colour: unknown key$/],
    ['invalid YAML', `${provider}  : [\n`, {}, /^payrecon: .*invalid YAML: .*line 10, column 1$/],
    [
      'missing SFTP private key',
      provider.replace(
        'settlement: { source: local, localDir: ./inbox }',
        () =>
          "settlement: { source: sftp, sftp: { host: 127.0.0.1, username: u, privateKeyPath: ./no-such-key, hostKeySha256: 'SHA256:abc' } }",
      ),
      {},
      /^payrecon: providers\.useepay\.settlement\.sftp\.privateKeyPath: \/.*\/no-such-key not found$/,
    ],
    [
      'several problems',
      `timezone: Mars/Olympus\n${provider}colour: blue\n`,
      {},
      /^payrecon: timezone: unknown time zone; colour: unknown key$/,
    ],
    [
      'malformed DATABASE_URL',
      provider,
      { DATABASE_URL: 'mysql://root:pw@db:99999/x' },
      /^payrecon: DATABASE_URL \(database\.url\): not a PostgreSQL URL such as postgres:\/\/user:password@host:5432\/payrecon$/,
    ],
    [
      'bad date token in a custom profile',
      provider.replace(
        'settlement: { source: local, localDir: ./inbox }',
        () =>
          "settlement: { source: local, localDir: ./inbox, profile: { filePattern: '^s_(?<date>\\d{8})$', fileDateFormat: yyyyQQdd, columns: { kind: 1, currency: 2, gross: 3, transactionId: 4 }, header: false } }",
      ),
      {},
      /^payrecon: providers\.useepay\.settlement\.profile\.fileDateFormat: date format "yyyyQQdd": unsupported token "QQ"$/,
    ],
  ])('a configuration with a %s exits 2 with one line naming it', async (_name, body, extraEnv, message) => {
    const file = configFile(`bad-${_name.replace(/\W/g, '')}.yaml`, body);
    const r = await runCli(['config', 'check', '--config', file], { env: { ...env, ...extraEnv } });
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  });

  it('a missing configuration file and bad usage exit 2', async () => {
    const missing = await runCli(['config', 'check', '--config', path.join(dir, 'nope.yaml')], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.yaml not found/);
    const usage = await runCli(['run', '--from', '2026-01-01', '--bogus'], { env });
    expect([usage.code, usage.stderr]).toEqual([
      2,
      "payrecon: unknown option '--bogus' (run with --help for usage)\n",
    ]);
  });

  it('an unknown --provider, or one not enabled, exits 2 naming it', async () => {
    const file = configFile('one-provider.yaml', provider);
    const unknown = await runCli(
      ['match', '--config', file, '--provider', 'useepay', '--provider', 'usepay'],
      {
        env,
      },
    );
    expect([unknown.code, unknown.stderr]).toEqual([
      2,
      expect.stringContaining("argument 'usepay' is invalid. Allowed choices are payunity, useepay."),
    ]);
    const off = await runCli(['run', '--config', file, '--provider', 'payunity', '--provider', 'useepay'], {
      env,
    });
    expect([off.code, off.stderr]).toEqual([
      2,
      expect.stringContaining('--provider payunity: not configured, or not enabled, in the configuration'),
    ]);
    expect(existsSync(path.join(dir, '.payrecon'))).toBe(false);
  });

  it('a workbook to import or approve that is missing is said before any database is started', async () => {
    const file = configFile('one-provider.yaml', provider);
    const r = await runCli(['decisions', 'import', path.join(dir, 'nope.xlsx'), '--config', file], { env });
    expect([r.code, r.stderr.trim()]).toEqual([
      2,
      `payrecon: workbook ${path.join(dir, 'nope.xlsx')} not found`,
    ]);
    const approval = await runCli(
      ['refunds', 'execute', '--run', '1', '--approval-file', path.join(dir, 'nope.xlsx'), '--config', file],
      { env },
    );
    expect([approval.code, approval.stderr.trim()]).toEqual([
      2,
      `payrecon: approval file ${path.join(dir, 'nope.xlsx')} not found`,
    ]);
    expect(existsSync(path.join(dir, '.payrecon'))).toBe(false);
  });

  it('migrates an embedded PostgreSQL that it starts by itself, and a second migrate has nothing to do', async () => {
    const port = await serverPort();
    const file = configFile(
      'embedded.yaml',
      `${provider}database:\n  embedded: { dataDir: ./pg-a/data, port: ${port} }\n`,
    );
    const first = await runCli(['migrate', '--config', file], { env });
    expect(first.stderr).not.toContain(SECRET);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/applied \d+ migration/);
    const second = await runCli(['migrate', '--config', file, '--json'], { env });
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ applied: [] });
  });

  it('commands started at once on one embedded directory share its server, and the last one stops it', async () => {
    const port = await serverPort();
    const file = configFile(
      'together.yaml',
      `${provider}database:\n  embedded: { dataDir: ./pg-d/data, port: ${port} }\n`,
    );
    const results = await Promise.all(
      ['migrate', 'runs', 'migrate', 'runs'].map((cmd) => runCli([cmd, '--config', file], { env })),
    );
    expect(results.map((r) => [r.code, r.stderr.match(/Error|at \w+ \(/)?.[0] ?? ''])).toEqual(
      results.map(() => [0, '']),
    );
    expect(existsSync(path.join(dir, 'pg-d/data/postmaster.pid'))).toBe(false);
  });

  it('says clearly when the embedded port is taken, or the data directory is held by another server', async () => {
    const blocker = net.createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as net.AddressInfo).port)),
    );
    try {
      const file = configFile(
        'taken.yaml',
        `${provider}database:\n  embedded: { dataDir: ./pg-b/data, port: ${port} }\n`,
      );
      const r = await runCli(['migrate', '--config', file], { env });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`port ${port} for the embedded PostgreSQL is taken`));
    } finally {
      blocker.close();
    }
    // A data directory in use by another server on another port is refused, naming that server.
    const portA = await serverPort();
    let portB = await serverPort();
    while (portB === portA) portB = await serverPort();
    const server = await startEmbedded({ dataDir: path.join(dir, 'pg-c/data'), port: portA });
    try {
      const other = configFile(
        'held-b.yaml',
        `${provider}database:\n  embedded: { dataDir: ./pg-c/data, port: ${portB} }\n`,
      );
      const r = await runCli(['migrate', '--config', other], { env });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(`pg-c/data is locked by another PostgreSQL \\(pid \\d+, port ${portA}\\)`),
      );
      // The same port is shared instead: a second payrecon process uses the server the first one started.
      const same = configFile(
        'held-a.yaml',
        `${provider}database:\n  embedded: { dataDir: ./pg-c/data, port: ${portA} }\n`,
      );
      const shared = await runCli(['migrate', '--config', same], { env });
      expect(shared.code).toBe(0);
    } finally {
      await server.stop();
    }
  });
});
