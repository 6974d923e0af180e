// A month pulled through ~10 % injected faults stores exactly the rows a clean pull stores; re-pulling changes
// nothing; the windows are recorded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayClient } from '../../src/gateways/index.js';
import { pullGateway } from '../../src/gateways/stage.js';
import { buildSampleData } from '../../src/sandbox/server/sample-data.js';
import { startSandboxServers, type SandboxServers } from '../../src/sandbox/server/index.js';
import { silentLogger } from '../../src/shared/log.js';
import { testDbPerSuite, type TestDb } from '../helpers/db.js';
import { gatewayConfig, noSleep, stageContext } from './helpers.js';

const RANGE = { from: '2026-10-01', to: '2026-10-31' };
const data = buildSampleData({
  from: '2026-10-01',
  days: 31,
  payunityPerDay: 100,
  useepayPerDay: 60,
  seed: 11,
});

let sim: SandboxServers;
const clean = testDbPerSuite();
const faulty = testDbPerSuite();

async function snapshot(db: TestDb) {
  const rows = await db.db
    .selectFrom('gateway_transactions')
    .select([
      'provider',
      'transaction_id',
      'gateway_type',
      'kind',
      'status',
      'root_payment_id',
      'referenced_id',
      'merchant_reference',
      'amount_minor',
      'currency',
      'transaction_time',
      'brand',
      'result_code',
      'raw',
      'content_hash',
    ])
    .orderBy('provider')
    .orderBy('transaction_id')
    .orderBy('gateway_type')
    .execute();
  return rows.map((r) => ({ ...r, transaction_time: r.transaction_time.toISOString() }));
}

async function pullBoth(db: TestDb) {
  const config = gatewayConfig(sim, data.credentials, 'postgres://unused/db', {
    timeoutSeconds: 2,
    retries: 8,
    concurrency: 4,
  });
  const ctx = stageContext(db, config);
  const deps = { log: silentLogger(), sleep: noSleep };
  return Promise.all(
    (['payunity', 'useepay'] as const).map((p) =>
      pullGateway(ctx, p, RANGE, createGatewayClient(p, config, deps)),
    ),
  );
}

beforeAll(async () => {
  sim = await startSandboxServers(data);
});
afterAll(async () => {
  await sim?.close();
});

describe('pullGateway under injected faults', () => {
  it('stores exactly what a fault-free pull stores', async () => {
    const a = await pullBoth(clean);
    expect(a[0]!.records).toBeGreaterThan(31 * 100);
    expect(a[0]!.inserted).toBe(a[0]!.records);
    expect(a[1]!.windows).toHaveLength(31 * 2);

    sim.setFaults({
      seed: 3,
      rate429: 0.03,
      retryAfterSeconds: null, // the client's own wait (asleep here)
      rate500: 0.03,
      rateMalformed: 0.02,
      rateDrop: 0.02,
      rateSlow: 0.01,
      slowMs: 20,
    });
    const b = await pullBoth(faulty);
    sim.setFaults({});
    const injected = sim.faultsInjected();
    for (const kind of ['429', '500', 'malformed', 'drop', 'slow'])
      expect(injected[kind], kind).toBeGreaterThan(0);
    expect(Object.values(injected).reduce((x, y) => x + y, 0)).toBeGreaterThan(20);
    expect(b.map((s) => s.records)).toEqual(a.map((s) => s.records));

    const [sa, sb] = await Promise.all([snapshot(clean), snapshot(faulty)]);
    expect(sa.length).toBe(a[0]!.records + a[1]!.records);
    expect(sb).toEqual(sa);
    // Roots and chargeback values were resolved (the sample world has chargebacks and captures).
    expect(
      sa.filter((r) => r.gateway_type === 'CB' && r.amount_minor !== null && r.amount_minor < 0).length,
    ).toBeGreaterThan(0);
    expect(sa.filter((r) => r.gateway_type === 'CB' && r.amount_minor === null)).toEqual([]);

    const windows = await faulty.db.selectFrom('pull_windows').selectAll().execute();
    expect(windows).toHaveLength(31 + 31 * 2);
    expect(windows.reduce((s, w) => s + w.record_count, 0)).toBe(sb.length);
  });

  it('re-pulling the month finds everything unchanged', async () => {
    const again = await pullBoth(clean);
    for (const s of again)
      expect({ inserted: s.inserted, updated: s.updated, unchanged: s.unchanged }).toEqual({
        inserted: 0,
        updated: 0,
        unchanged: s.records,
      });
  });

  it('stops at the next safe point when aborted', async () => {
    const config = gatewayConfig(sim, data.credentials, 'postgres://unused/db');
    const ac = new AbortController();
    ac.abort(new Error('interrupted by SIGTERM'));
    const ctx = stageContext(clean, config, ac.signal);
    await expect(
      pullGateway(ctx, 'payunity', RANGE, createGatewayClient('payunity', config, { log: silentLogger() })),
    ).rejects.toThrow('interrupted by SIGTERM');
  });
});
