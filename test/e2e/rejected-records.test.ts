// Bad gateway records planted in the sandbox: the run succeeds (exit 0) with the good records stored and the bad ones
// rejected with their reason and id (counts, workbook), a card number in a good record's string value is stored
// masked, and `refunds plan` holds every refund a rejected record may concern until a later pull stores it.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWorld, writeSettlementFiles } from '../../src/sandbox/generate/index.js';
import { SERVED_TEXT, startSandboxServers, type SandboxServers } from '../../src/sandbox/server/index.js';
import { runCli } from '../helpers/cli.js';
import { testDbPerSuite, testDbUrl } from '../helpers/db.js';

const world = generateWorld({
  seed: 77,
  from: '2026-10-05',
  to: '2026-10-09',
  asOf: '2026-10-20',
  paymentsPerDay: 6,
});
const RANGE = ['--from', '2026-10-05', '--to', '2026-10-09'];
const NOW = '2026-10-20T12:00:00Z';
const dir = mkdtempSync(path.join(os.tmpdir(), 'payrecon-rejected-'));
chmodSync(dir, 0o755);
const db = testDbPerSuite();
let servers: SandboxServers;

const candidates = (provider: string) =>
  world.answerKey.filter(
    (a) => a.provider === provider && (a.type === 'status_mismatch' || a.type === 'duplicate_charge'),
  );
// The payment a planted PayUnity refund with a bad amount references: its refunds must wait.
const heldPayment = candidates('payunity').find((a) => a.type === 'status_mismatch')!.transactionId;
const PAN = '4111111111111111';
const badRefundId = 'badf00d0000000000000000000000001';
const deepId = 'deeb0000000000000000000000000001';
const goodId = 'c0ffee00000000000000000000000001';
const TS = '2026-10-06 09:00:00.000+0000';
const OK = { code: '000.100.110', description: 'ok' };

function badRefund(amount: string) {
  return {
    id: badRefundId,
    referencedId: heldPayment,
    paymentType: 'RF',
    amount,
    currency: 'EUR',
    merchantTransactionId: 'RF-PLANTED',
    result: OK,
    timestamp: TS,
  };
}

/** The sandbox data with the planted records; `fixed`: the refund now comes with a valid amount. */
function plant(fixed: boolean) {
  const deep = (n: number) => `${'['.repeat(n)}1${']'.repeat(n)}`;
  const refund = badRefund(fixed ? '0.01' : '0.0123');
  return {
    ...world.data,
    payunity: [
      ...world.data.payunity,
      { ...refund, [SERVED_TEXT]: JSON.stringify(refund) },
      {
        id: deepId,
        paymentType: 'DB',
        timestamp: TS,
        [SERVED_TEXT]: `{"id":"${deepId}","paymentType":"DB","amount":"1.00","currency":"EUR","result":{"code":"000.100.110"},"timestamp":"${TS}","x":${deep(100_000)}}`,
      },
      {
        id: goodId,
        paymentType: 'DB',
        amount: '3.00',
        currency: 'EUR',
        merchantTransactionId: 'GOOD-1',
        descriptor: `0734.6266.9254 card ${PAN}`,
        result: OK,
        timestamp: TS,
      },
    ],
    useepay: {
      ...world.data.useepay,
      refunds: [
        ...world.data.useepay.refunds,
        // No id, no payment intent, no time: it may be a refund of any UseePay payment.
        {
          create_at: '2026-10-06T09:00:00Z',
          [SERVED_TEXT]: '{"amount":1.5,"currency":"USD","status":"succeeded","create_at":"not a time"}',
        },
      ],
    },
  };
}

function writeConfig(): string {
  const c = world.data.credentials;
  const file = path.join(dir, 'payrecon.config.yaml');
  const settlement = (p: string) =>
    `{ source: local, profile: ${p}, localDir: ./inbox/${p}, archiveDir: ./archive/${p} }`;
  writeFileSync(
    file,
    `
timezone: UTC
database: { url: '${testDbUrl(db.name)}' }
reports: { dir: ./reports }
refunds: { maxPerRefund: { EUR: 100000, USD: 100000, JPY: 10000000 }, maxPerExecution: { EUR: 1000000, USD: 1000000, JPY: 100000000 } }
providers:
  payunity:
    baseUrl: ${servers.payunityUrl}
    entityId: ${c.payunity.entityId}
    accessToken: ${c.payunity.accessToken}
    settlementLagDays: ${world.config.settlementLagDays.payunity}
    settlement: ${settlement('payunity')}
    pull: { trailingDays: 0 }
  useepay:
    baseUrl: ${servers.useepayUrl}
    merchantNo: '${c.useepay.merchantNo}'
    appId: ${c.useepay.appId}
    apiKey: ${c.useepay.apiKey}
    settlementLagDays: ${world.config.settlementLagDays.useepay}
    settlement: ${settlement('useepay')}
    pull: { trailingDays: 0 }
`,
  );
  return file;
}

const cli = (...args: string[]) =>
  runCli([...args, '--config', writeConfig()], { env: { PAYRECON_NOW: NOW, PAYRECON_CONFIG: undefined } });

interface PlanOut {
  created: { discrepancyId: string; provider: string; paymentId: string }[];
  held: { discrepancyId: string; reason: string }[];
}

/** Held discrepancy ids by provider, sorted. */
async function heldByProvider(ids: string[]): Promise<Record<string, string[]>> {
  const rows =
    ids.length === 0
      ? []
      : await db.db.selectFrom('discrepancies').select(['id', 'provider']).where('id', 'in', ids).execute();
  const out: Record<string, string[]> = { payunity: [], useepay: [] };
  for (const r of rows) out[r.provider]!.push(r.id);
  for (const k of Object.keys(out)) out[k]!.sort();
  return out;
}

beforeAll(async () => {
  servers = await startSandboxServers(plant(false));
  await writeSettlementFiles(world, {
    payunity: path.join(dir, 'inbox', 'payunity'),
    useepay: path.join(dir, 'inbox', 'useepay'),
  });
});
afterAll(async () => {
  await servers?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a pull with bad gateway records', () => {
  let runId: number;
  let reportPath: string;

  it('succeeds, stores the good records and rejects the bad ones with reason and id', async () => {
    const r = await cli('run', ...RANGE, '--json');
    expect(r.stderr.split('\n').filter((l) => l.startsWith('payrecon:'))).toEqual([]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      runId: number;
      status: string;
      reportPath: string;
      counts: { rejectedRecords: number; rejectedLines: number };
    };
    expect(out.status).toBe('succeeded');
    expect(out.counts.rejectedRecords).toBe(3);
    expect(out.counts.rejectedLines).toBe(0);
    runId = out.runId;
    reportPath = out.reportPath;

    const rows = await db.db
      .selectFrom('rejected_records')
      .select(['provider', 'endpoint', 'record_id', 'hold_id', 'reason', 'raw', 'resolved_at', 'last_run_id'])
      .orderBy('provider')
      .orderBy('record_id')
      .execute();
    expect(rows.map((x) => [x.provider, x.endpoint, x.record_id, x.hold_id, x.last_run_id])).toEqual([
      ['payunity', 'v3/query', badRefundId, heldPayment, runId],
      ['payunity', 'v3/query', deepId, deepId, runId],
      ['useepay', 'refunds', null, null, runId],
    ]);
    expect(rows[0]!.reason).toMatch(/0\.0123/);
    expect(rows[1]!.reason).toMatch(/nested 100001 levels deep/);
    expect(rows[1]!.raw.length).toBeLessThanOrEqual(1000);
    expect(rows[2]!.reason).toMatch(/without id/);
    expect(rows.every((x) => x.resolved_at === null)).toBe(true);

    // The good records of the same pages are stored; the good one with a card number in a string value, masked.
    const stored = await db.db
      .selectFrom('gateway_transactions')
      .select(['transaction_id', 'raw'])
      .where('transaction_id', 'in', [goodId, badRefundId, deepId, heldPayment])
      .execute();
    expect(stored.map((s) => s.transaction_id).sort()).toEqual([goodId, heldPayment].sort());
    const raw = JSON.stringify(stored.find((s) => s.transaction_id === goodId)!.raw);
    expect(raw).not.toContain(PAN);
    expect(raw).toContain('411111******1111');
    const total = await db.db
      .selectFrom('gateway_transactions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(total.n)).toBeGreaterThan(50);
  });

  it('lists them on the Rejected lines sheet, after the file lines, with where they came from', async () => {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(reportPath);
    const ws = wb.getWorksheet('Rejected lines')!;
    const header = (ws.getRow(1).values as unknown[]).slice(1);
    expect(header).toEqual([
      'Provider',
      'File',
      'Settlement date',
      'Line',
      'Reason',
      'Raw text (masked)',
      'Record ID',
      'Holds refunds of',
    ]);
    const rows: unknown[][] = [];
    ws.eachRow((row, n) => {
      if (n > 1) rows.push((row.values as unknown[]).slice(1));
    });
    expect(rows).toHaveLength(3);
    const refund = rows.find((r) => r[6] === badRefundId)!;
    expect(refund[0]).toBe('payunity');
    expect(refund[1]).toBe('payunity API v3/query, window 2026-10-06 00:00 to 2026-10-07 00:00 UTC');
    expect(String(refund[4])).toMatch(/0\.0123/);
    expect(refund[7]).toBe(`payment ${heldPayment}`);
    const nameless = rows.find((r) => r[0] === 'useepay')!;
    expect(nameless[7]).toBe('every useepay payment (the record names none)');
    // The held discrepancy says why in its Detail, and is not suggested for a refund.
    const d = wb.getWorksheet('Discrepancies')!;
    const held = candidates('payunity').find((a) => a.transactionId === heldPayment)!;
    let found = false;
    d.eachRow((row) => {
      const v = (row.values as unknown[]).slice(1);
      if (v[0] !== held.id) return;
      found = true;
      expect(String(v[14])).toContain(`refund held: payunity record ${badRefundId} (RF)`);
      expect(v[15]).toBe('INVESTIGATE');
    });
    expect(found).toBe(true);
  });

  it('holds the refunds a rejected record may concern, and says why', async () => {
    const r = await cli('refunds', 'plan', '--run', String(runId), '--json');
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as PlanOut;
    const heldIds = plan.held.map((h) => h.discrepancyId).sort();
    const payunityHeld = candidates('payunity').filter((a) => a.transactionId === heldPayment);
    expect(payunityHeld.length).toBeGreaterThan(0);
    const byProvider = await heldByProvider(heldIds);
    expect(byProvider.payunity).toEqual(payunityHeld.map((a) => a.id).sort());
    // The nameless UseePay refund holds every UseePay candidate (the planted ones, and any other).
    expect(byProvider.useepay).toEqual(expect.arrayContaining(candidates('useepay').map((a) => a.id)));
    // Other PayUnity candidates are planned as before; nothing for a held payment, nothing for UseePay.
    expect(plan.created.some((a) => a.provider === 'payunity')).toBe(true);
    expect(plan.created.filter((a) => a.paymentId === heldPayment || a.provider === 'useepay')).toEqual([]);
    const why = plan.held.find((h) => h.discrepancyId === payunityHeld[0]!.id)!.reason;
    expect(why).toMatch(
      new RegExp(
        `payunity record ${badRefundId} \\(RF\\).*may be a refund or chargeback of payment ${heldPayment}`,
      ),
    );
    const text = await cli('refunds', 'plan', '--run', String(runId));
    expect(text.stdout).toContain(`held ${payunityHeld[0]!.id}: refund held: payunity record ${badRefundId}`);
  });

  it('lifts the hold once a later pull stores the record', async () => {
    await servers.close();
    servers = await startSandboxServers(plant(true));
    const r = await cli('run', ...RANGE, '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { runId: number; counts: { rejectedRecords: number } };
    // The deep record and the nameless refund are still rejected; the refund is stored now.
    expect(out.counts.rejectedRecords).toBe(2);
    const refund = await db.db
      .selectFrom('rejected_records')
      .select(['resolved_at', 'resolved_run_id', 'resolution'])
      .where('record_id', '=', badRefundId)
      .executeTakeFirstOrThrow();
    expect(refund.resolved_run_id).toBe(out.runId);
    expect(refund.resolution).toMatch(/stored by a later pull|no longer in the gateway's answer/);
    const plan = JSON.parse(
      (await cli('refunds', 'plan', '--run', String(out.runId), '--json')).stdout,
    ) as PlanOut;
    const payunityHeld = candidates('payunity').filter((a) => a.transactionId === heldPayment);
    for (const c of payunityHeld) expect(plan.held.map((h) => h.discrepancyId)).not.toContain(c.id);
    const byProvider = await heldByProvider(plan.held.map((h) => h.discrepancyId));
    expect(byProvider.payunity).toEqual([]);
    expect(byProvider.useepay).toEqual(expect.arrayContaining(candidates('useepay').map((a) => a.id)));
  });
});
