// A run on the smallest connection pool the configuration accepts (database.poolSize): the real CLI in a
// subprocess, both providers from the sandbox simulators, a real database. Every stage that holds a connection
// while it asks for another (the run lock, a pull's write lane, the report's snapshot) must still finish.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_POOL_SIZE } from '../../src/db/pool-size.js';
import { generateWorld, writeSettlementFiles } from '../../src/sandbox/generate/index.js';
import { startSandboxServers, type SandboxServers } from '../../src/sandbox/server/index.js';
import { runCli } from '../helpers/cli.js';
import { testDbPerSuite, testDbUrl } from '../helpers/db.js';

const world = generateWorld({
  seed: 77,
  from: '2026-10-01',
  to: '2026-10-07',
  asOf: '2026-10-12',
  paymentsPerDay: 12,
});
const dir = mkdtempSync(path.join(os.tmpdir(), 'payrecon-pool-'));
chmodSync(dir, 0o755);
let servers: SandboxServers;
const tdb = testDbPerSuite();

function writeConfig(poolSize: number | string): string {
  const c = world.data.credentials;
  const file = path.join(dir, `pool-${poolSize}.yaml`);
  const settlement = (p: string) =>
    `{ source: local, profile: ${p}, localDir: ./inbox/${p}, archiveDir: ./archive/${p} }`;
  writeFileSync(
    file,
    `
timezone: UTC
database: { url: '${testDbUrl(tdb.name)}', poolSize: ${poolSize} }
reports: { dir: ./reports }
providers:
  payunity:
    baseUrl: ${servers.payunityUrl}
    entityId: ${c.payunity.entityId}
    accessToken: ${c.payunity.accessToken}
    settlementLagDays: ${world.config.settlementLagDays.payunity}
    fees: ${JSON.stringify(world.config.fees.payunity)}
    settlement: ${settlement('payunity')}
  useepay:
    baseUrl: ${servers.useepayUrl}
    merchantNo: '${c.useepay.merchantNo}'
    appId: ${c.useepay.appId}
    apiKey: ${c.useepay.apiKey}
    settlementLagDays: ${world.config.settlementLagDays.useepay}
    fees: ${JSON.stringify(world.config.fees.useepay)}
    settlement: ${settlement('useepay')}
`,
  );
  return file;
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

describe('database.poolSize', () => {
  it(`at its minimum (${MIN_POOL_SIZE}), a run finds the planted answer and its report and refund plan follow`, async () => {
    const config = writeConfig(MIN_POOL_SIZE);
    const env = { PAYRECON_NOW: '2026-10-12T12:00:00Z' };
    const r = await runCli(
      ['run', '--from', '2026-10-01', '--to', '2026-10-07', '--json', '--config', config],
      {
        env,
      },
    );
    expect(r.stderr.split('\n').filter((l) => l.startsWith('payrecon:'))).toEqual([]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { runId: number; counts: { discrepancies: Record<string, number> } };
    const byType: Record<string, number> = {};
    for (const e of world.answerKey) byType[e.type] = (byType[e.type] ?? 0) + 1;
    expect(Object.fromEntries(Object.entries(out.counts.discrepancies).filter(([, n]) => n > 0))).toEqual(
      byType,
    );
    for (const args of [
      ['report', '--run', String(out.runId)],
      ['refunds', 'plan', '--run', String(out.runId)],
    ]) {
      const next = await runCli([...args, '--json', '--config', config], { env });
      expect(next.code, `${args.join(' ')}: ${next.stderr}`).toBe(0);
    }
  });
});
