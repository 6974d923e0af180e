// Test data for the refund tests: rows inserted directly (no matcher needed) and a configuration pointing at a
// gateway simulator.
import { createHash } from 'node:crypto';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import type { Db } from '../../src/db/connect.js';
import { createGatewayClient } from '../../src/gateways/index.js';
import type { StageContext } from '../../src/jobs/context.js';
import type { RefundDeps } from '../../src/refunds/index.js';
import { silentLogger } from '../../src/shared/log.js';
import type { TestDb } from '../helpers/db.js';
import { testStageContext } from '../helpers/context.js';

export interface GatewayUrls {
  payunity?: { url: string; entityId: string; accessToken: string };
  useepay?: { url: string; merchantNo: string; appId: string; apiKey: string };
}

export function rawConfig(
  gw: GatewayUrls,
  dbUrl: string,
  caps: { perRefund?: Record<string, string>; perExecution?: Record<string, string> } = {},
) {
  const settlement = { source: 'local', localDir: '/tmp' };
  return {
    timezone: 'UTC',
    database: { url: dbUrl },
    providers: {
      ...(gw.payunity && {
        payunity: {
          baseUrl: gw.payunity.url,
          entityId: gw.payunity.entityId,
          accessToken: gw.payunity.accessToken,
          settlement,
          pull: { timeoutSeconds: 1, retries: 0 },
        },
      }),
      ...(gw.useepay && {
        useepay: {
          baseUrl: gw.useepay.url,
          merchantNo: gw.useepay.merchantNo,
          appId: gw.useepay.appId,
          apiKey: gw.useepay.apiKey,
          settlement,
          pull: { timeoutSeconds: 1, retries: 0 },
        },
      }),
    },
    refunds: {
      maxPerRefund: caps.perRefund ?? { EUR: '500.00', USD: '500.00', JPY: '50000' },
      maxPerExecution: caps.perExecution ?? { EUR: '5000.00', USD: '5000.00', JPY: '500000' },
    },
    log: { level: 'warn' },
  };
}

export function testConfig(...args: Parameters<typeof rawConfig>): Config {
  return parseConfig(rawConfig(...args), {}).config;
}

export function stageContext(
  db: TestDb,
  config: Config,
  runId: number,
  signal = new AbortController().signal,
): StageContext {
  return testStageContext(db, config, { runId, signal });
}

export function realClients(config: Config): RefundDeps {
  return { clientFor: (p) => createGatewayClient(p, config, { log: silentLogger() }) };
}

export async function seedRun(db: Db): Promise<number> {
  const r = await db
    .insertInto('runs')
    .values({
      command: 'run',
      from_date: '2026-11-18',
      to_date: '2026-11-18',
      providers: ['payunity', 'useepay'],
      tool_version: 'test',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return r.id;
}

export interface SeedPayment {
  provider?: 'payunity' | 'useepay';
  id: string;
  amountMinor: number;
  currency?: string;
  status?: string;
  kind?: string;
  gatewayType?: string;
  rootPaymentId?: string;
}

export async function seedGatewayTx(db: Db, p: SeedPayment): Promise<void> {
  await db
    .insertInto('gateway_transactions')
    .values({
      provider: p.provider ?? 'payunity',
      transaction_id: p.id,
      gateway_type: p.gatewayType ?? (p.provider === 'useepay' ? 'payment_intent' : 'DB'),
      kind: p.kind ?? 'payment',
      status: p.status ?? 'succeeded',
      root_payment_id: p.rootPaymentId ?? p.id,
      referenced_id: p.rootPaymentId ?? null,
      merchant_reference: `ORDER-${p.id.slice(0, 6)}`,
      amount_minor: p.amountMinor,
      currency: p.currency ?? 'EUR',
      transaction_time: '2026-11-18T10:00:00Z',
      raw: '{}',
      content_hash: 'x',
    })
    .execute();
}

export interface SeedDiscrepancy {
  provider?: 'payunity' | 'useepay';
  type: string;
  transactionId: string;
  paymentId?: string;
  currency?: string;
  gatewayMinor: number | null;
  settledMinor: number | null;
  status?: 'open' | 'closed';
}

/** A discrepancy of the run, with the stable id of docs/matching.md. */
export async function seedDiscrepancy(db: Db, runId: number, d: SeedDiscrepancy): Promise<string> {
  const provider = d.provider ?? 'payunity';
  const id =
    'D' + createHash('sha256').update(`${provider}|${d.type}|${d.transactionId}`).digest('hex').slice(0, 16);
  await db
    .insertInto('discrepancies')
    .values({
      id,
      provider,
      type: d.type,
      transaction_id: d.transactionId,
      payment_id: d.paymentId ?? d.transactionId,
      merchant_reference: `ORDER-${d.transactionId.slice(0, 6)}`,
      transaction_time: '2026-11-18T10:00:00Z',
      settlement_date: '2026-11-19',
      currency: d.currency ?? 'EUR',
      gateway_amount_minor: d.gatewayMinor,
      settled_amount_minor: d.settledMinor,
      difference_minor: (d.settledMinor ?? 0) - (d.gatewayMinor ?? 0),
      status: d.status ?? 'open',
      opened_run_id: runId,
      last_seen_run_id: runId,
    })
    .execute();
  await db
    .insertInto('run_discrepancies')
    .values({ run_id: runId, discrepancy_id: id, change: 'opened' })
    .execute();
  return id;
}

export function hex32(n: number): string {
  return createHash('md5').update(`payment-${n}`).digest('hex');
}
