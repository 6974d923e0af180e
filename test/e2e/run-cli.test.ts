// `payrecon run` as cron runs it: the real CLI in a subprocess, a generated month in the sandbox simulators and a
// local settlement folder, a real database. It must find exactly the planted answer, change nothing on a rerun,
// survive SIGKILL, refuse a concurrent run with exit 3, and close a discrepancy that settles late.
import {
  chmodSync,
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateWorld,
  writeSettlementFile,
  writeSettlementFiles,
} from '../../src/sandbox/generate/index.js';
import { startSandboxServers, type SandboxServers } from '../../src/sandbox/server/index.js';
import { BIN, runCli } from '../helpers/cli.js';
import { testDbPerSuite, testDbUrl, type TestDb } from '../helpers/db.js';
import { repeatedKeys } from '../helpers/log-lines.js';

const world = generateWorld({
  seed: 4242,
  from: '2026-10-01',
  to: '2026-10-30',
  asOf: '2026-11-03',
  paymentsPerDay: 20,
  gzip: 'some',
});
const NOW = '2026-11-03T12:00:00Z';
const RANGE = ['--from', '2026-10-01', '--to', '2026-10-30'];
const dir = mkdtempSync(path.join(os.tmpdir(), 'payrecon-e2e-'));
chmodSync(dir, 0o755);
let servers: SandboxServers;
const reference = testDbPerSuite();
const killed = testDbPerSuite();

function writeConfig(name: string, db: TestDb): string {
  const c = world.data.credentials;
  const file = path.join(dir, `${name}.yaml`);
  const settlement = (p: string) =>
    `{ source: local, profile: ${p}, localDir: ./inbox/${p}, archiveDir: ./archive-${name}/${p} }`;
  const fees = (p: 'payunity' | 'useepay') => JSON.stringify(world.config.fees[p]);
  writeFileSync(
    file,
    `
timezone: UTC
database: { url: '${testDbUrl(db.name)}' }
reports: { dir: ./reports-${name} }
providers:
  payunity:
    baseUrl: ${servers.payunityUrl}
    entityId: ${c.payunity.entityId}
    accessToken: \${PU_TOKEN}
    settlementLagDays: ${world.config.settlementLagDays.payunity}
    fees: ${fees('payunity')}
    settlement: ${settlement('payunity')}
  useepay:
    baseUrl: ${servers.useepayUrl}
    merchantNo: '${c.useepay.merchantNo}'
    appId: ${c.useepay.appId}
    apiKey: \${UP_KEY}
    settlementLagDays: ${world.config.settlementLagDays.useepay}
    fees: ${fees('useepay')}
    settlement: ${settlement('useepay')}
`,
  );
  return file;
}

const env = () => ({
  PU_TOKEN: world.data.credentials.payunity.accessToken,
  UP_KEY: world.data.credentials.useepay.apiKey,
  PAYRECON_NOW: NOW,
});

async function openSet(db: TestDb): Promise<string[]> {
  const rows = await db.db
    .selectFrom('discrepancies')
    .where('status', '=', 'open')
    .select(['id', 'type', 'transaction_id', 'gateway_amount_minor', 'settled_amount_minor'])
    .orderBy('id')
    .execute();
  return rows.map(
    (r) => `${r.id} ${r.type} ${r.transaction_id} ${r.gateway_amount_minor} ${r.settled_amount_minor}`,
  );
}

beforeAll(async () => {
  servers = await startSandboxServers(world.data);
  await writeSettlementFiles(world, {
    payunity: path.join(dir, 'inbox', 'payunity'),
    useepay: path.join(dir, 'inbox', 'useepay'),
  });
});
afterAll(async () => {
  await servers.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('payrecon run (CLI, sandbox month)', () => {
  it('finds exactly the planted answer, for both providers and every currency', async () => {
    const r = await runCli(['run', ...RANGE, '--json', '--config', writeConfig('ref', reference)], {
      env: env(),
    });
    expect(r.stderr.split('\n').filter((l) => l.startsWith('payrecon:'))).toEqual([]);
    expect(r.code).toBe(0);
    // Every log line is one JSON object with each key once (JSON.parse alone would hide a repeated key).
    const logLines = r.stderr.split('\n').filter((l) => l !== '');
    expect(logLines.length).toBeGreaterThan(10);
    for (const line of logLines) {
      expect(() => JSON.parse(line) as unknown, line).not.toThrow();
      expect(repeatedKeys(line), line).toEqual([]);
    }
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ from: '2026-10-01', to: '2026-10-30', status: 'succeeded' });
    expect(out.reportPath).toMatch(/payrecon_2026-10-01_2026-10-30_run-\d+\.xlsx$/);
    const byType: Record<string, number> = {};
    for (const e of world.answerKey) byType[e.type] = (byType[e.type] ?? 0) + 1;
    expect(
      Object.fromEntries(
        Object.entries(out.counts.discrepancies as Record<string, number>).filter(([, n]) => n > 0),
      ),
    ).toEqual(byType);
    expect(out.counts.awaitingSettlement).toBe(world.awaiting.length);
    const expected = world.answerKey
      .map((e) => `${e.id} ${e.type} ${e.transactionId} ${e.gatewayAmountMinor} ${e.settledAmountMinor}`)
      .sort();
    expect(await openSet(reference)).toEqual(expected);
    const currencies = new Set(world.answerKey.map((e) => e.currency));
    expect(currencies.has('JPY') && currencies.size >= 3).toBe(true);
    expect(new Set(world.answerKey.map((e) => e.provider))).toEqual(new Set(['payunity', 'useepay']));
  });

  it('changes nothing when the same range runs again', async () => {
    const before = await openSet(reference);
    const total = await reference.db
      .selectFrom('discrepancies')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const r = await runCli(['run', ...RANGE, '--json', '--config', writeConfig('ref', reference)], {
      env: env(),
    });
    expect(r.code).toBe(0);
    const { runId } = JSON.parse(r.stdout) as { runId: number };
    expect(await openSet(reference)).toEqual(before);
    const after = await reference.db
      .selectFrom('discrepancies')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(total.n));
    const changes = await reference.db
      .selectFrom('run_discrepancies')
      .where('run_id', '=', runId)
      .select('change')
      .distinct()
      .execute();
    expect(changes.map((c) => c.change)).toEqual(['unchanged']);
  });

  it('lets one of two simultaneous runs through and skips the other with exit 3', async () => {
    servers.setFaults({ seed: 1, rateSlow: 1, slowMs: 40 }); // keep the first run busy long enough to overlap
    try {
      const cfg = writeConfig('ref', reference);
      const [a, b] = await Promise.all([
        runCli(['run', ...RANGE, '--config', cfg], { env: env() }),
        runCli(['run', ...RANGE, '--config', cfg], { env: env() }),
      ]);
      expect([a.code, b.code].sort()).toEqual([0, 3]);
      const skipped = a.code === 3 ? a : b;
      expect(skipped.stderr).toMatch(
        /^payrecon: skipped run 2026-10-01\.\.2026-10-30: another run holds the lock/m,
      );
    } finally {
      servers.setFaults({});
    }
  });

  it('gives the same result after a SIGKILL mid-run and a rerun', async () => {
    const cfg = writeConfig('killed', killed);
    servers.setFaults({ seed: 2, rateSlow: 1, slowMs: 40 });
    const child = spawn(process.execPath, [BIN, 'run', ...RANGE, '--config', cfg], {
      env: { ...process.env, ...env() },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        // Killed in the middle of pulling: settlement files are loaded, the gateway data only partly.
        if (/"stage":"pull"/.test(stderr)) resolve();
      });
      child.on('exit', () => reject(new Error(`the run ended before it could be killed: ${stderr}`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    servers.setFaults({});
    const interrupted = await killed.db.selectFrom('runs').select(['status']).execute();
    expect(interrupted.map((r) => r.status)).toEqual(['running']);
    const r = await runCli(['run', ...RANGE, '--json', '--config', cfg], { env: env() });
    expect(r.code).toBe(0);
    expect(await openSet(killed)).toEqual(await openSet(reference));
    const runs = await killed.db.selectFrom('runs').select(['status', 'error']).orderBy('id').execute();
    expect(runs[0]).toMatchObject({ status: 'failed', error: expect.stringMatching(/interrupted/) });
  });

  it('closes a discrepancy when its payment settles late, saying when', async () => {
    const late = world.lateSettled;
    expect(late).toBeDefined();
    if (!late) return;
    await writeSettlementFile(late.file, path.join(dir, 'inbox', late.provider));
    const day = late.file.settlementDate;
    const r = await runCli(['run', '--date', day, '--json', '--config', writeConfig('ref', reference)], {
      env: { ...env(), PAYRECON_NOW: `${day}T23:00:00Z` },
    });
    expect(r.code).toBe(0);
    const row = await reference.db
      .selectFrom('discrepancies')
      .selectAll()
      .where('provider', '=', late.provider)
      .where('transaction_id', '=', late.transactionId)
      .where('type', '=', 'missing_in_settlement')
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('closed');
    expect(row.close_reason).toBe(`settled late on ${day}`);
  });

  it('says which files it did not load: one refused whole, one a copy of a loaded file under another name', async () => {
    const inbox = path.join(dir, 'inbox', 'payunity');
    const files = readdirSync(inbox).sort();
    const plain = files.find((f) => f.endsWith('.csv'))!;
    // The same bytes as a loaded file, delivered again for a day of no file of its own.
    const copy = files[0]!.replace(/\d{8}/, '20261102');
    copyFileSync(path.join(inbox, files[0]!), path.join(inbox, copy));
    // A file cut short: no trailer.
    const cut = plain.replace(/\d{8}/, '20261103');
    writeFileSync(path.join(inbox, cut), readFileSync(path.join(inbox, plain)).subarray(0, 400));
    const r = await runCli(
      [
        'run',
        '--date',
        '2026-11-02',
        '--provider',
        'payunity',
        '--json',
        '--config',
        writeConfig('ref', reference),
      ],
      { env: { ...env(), PAYRECON_NOW: '2026-11-04T12:00:00Z' } },
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      counts: Record<string, unknown>;
      files: { provider: string; file: string; what: string; reason: string }[];
    };
    expect(out.counts).toMatchObject({ refusedFiles: 2, correctedFiles: 0 });
    expect(out.files.map((f) => [f.file, f.what]).sort()).toEqual([
      [copy, 'refused'],
      [cut, 'refused'],
    ]);
    expect(out.files.find((f) => f.file === copy)!.reason).toMatch(
      new RegExp(`^same content as ${files[0]!.replace(/\./g, '\\.')} \\(file \\d+\\), already loaded`),
    );
    expect(out.files.find((f) => f.file === cut)!.reason).toMatch(/trailer|truncated|header/);
    // Both are warnings in the log, not routine lines.
    const warned = r.stderr
      .split('\n')
      .filter((l) => l.includes('"settlement file processed"'))
      .filter((l) => (JSON.parse(l) as { level: number }).level === 40);
    expect(warned).toHaveLength(2);
    // Nothing of either was loaded: the copy's lines are not counted twice.
    const lines = await reference.db
      .selectFrom('settlement_files')
      .select(['file_name', 'status', 'loaded_count'])
      .where('file_name', 'in', [copy, cut])
      .execute();
    expect(lines).toEqual([{ file_name: cut, status: 'rejected', loaded_count: 0 }]);
  });
});
