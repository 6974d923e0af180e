// A small world for refund tests: payments served by the project's gateway simulators over real HTTP, the same
// payments in a real test database with one duplicate_charge discrepancy each, and a plan for them.
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { planRefunds } from '../../src/refunds/index.js';
import { DEFAULT_CREDENTIALS, type SandboxData } from '../../src/sandbox/data.js';
import {
  startSandboxServers,
  type FaultOptions,
  type SandboxServers,
} from '../../src/sandbox/server/index.js';
import { oppwaTime } from '../../src/sandbox/server/payunity.js';
import { formatMinor } from '../../src/shared/money.js';
import type { TestDb } from '../helpers/db.js';
import { hex32, rawConfig, seedDiscrepancy, seedGatewayTx, seedRun, stageContext } from './fixtures.js';

export interface WorldPayment {
  provider?: 'payunity' | 'useepay';
  amountMinor: number;
  currency?: string;
  /** The simulator's view: a payment it will refuse to refund (declined at the gateway). */
  declinedAtGateway?: boolean;
}

export interface World {
  runId: number;
  /** Discrepancy ids, in the order of the payments. */
  ids: string[];
  paymentIds: string[];
  servers: SandboxServers;
  config: Config;
  /** The configuration as YAML-able data (for the CLI). */
  raw: ReturnType<typeof rawConfig>;
  /** Refunds the simulators hold for this world's payments: [paymentId, amount text, currency, our key]. */
  refundsAtGateway(): [string, string, string, string][];
  close(): Promise<void>;
}

let counter = 0;
const OK = {
  code: '000.100.110',
  description: "Request successfully processed in 'Merchant in Integrator Test Mode'",
};

export async function startWorld(
  db: TestDb,
  payments: WorldPayment[],
  opts: {
    faults?: FaultOptions;
    caps?: Parameters<typeof rawConfig>[2];
    timeoutSeconds?: number;
    plan?: boolean;
  } = {},
): Promise<World> {
  const data: SandboxData = {
    credentials: DEFAULT_CREDENTIALS,
    payunity: [],
    useepay: { intents: [], refunds: [] },
  };
  const at = new Date('2026-11-18T10:00:00Z');
  const paymentIds = payments.map((p) => {
    const n = ++counter + Math.floor(Math.random() * 1e9);
    const currency = p.currency ?? 'EUR';
    if (p.provider === 'useepay') {
      const id = String(1012411211459000000n + BigInt(n));
      const major = Number(formatMinor(p.amountMinor, currency));
      data.useepay.intents.push({
        id,
        merchant_order_id: `ORDER-${n}`,
        amount: major,
        captured_amount: major,
        currency,
        status: p.declinedAtGateway ? 'failed' : 'succeeded',
        auto_capture: true,
        create_at: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        modify_at: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        metadata: {},
      });
      return id;
    }
    const id = hex32(n);
    data.payunity.push({
      id,
      paymentType: 'DB',
      paymentBrand: 'VISA',
      amount: formatMinor(p.amountMinor, currency),
      currency,
      merchantTransactionId: `ORDER-${n}`,
      result: p.declinedAtGateway ? { code: '800.100.156', description: 'transaction declined' } : OK,
      timestamp: oppwaTime(at),
    });
    return id;
  });
  const servers = await startSandboxServers(data, { faults: opts.faults ?? {} });
  const pu = DEFAULT_CREDENTIALS.payunity;
  const ue = DEFAULT_CREDENTIALS.useepay;
  const raw = rawConfig(
    { payunity: { url: servers.payunityUrl, ...pu }, useepay: { url: servers.useepayUrl, ...ue } },
    db.url,
    opts.caps,
  );
  if (opts.timeoutSeconds !== undefined) {
    for (const p of Object.values(raw.providers)) p.pull.timeoutSeconds = opts.timeoutSeconds;
  }
  const config = parseConfig(raw, {}).config;

  const runId = await seedRun(db.db);
  const ids: string[] = [];
  for (const [i, p] of payments.entries()) {
    const id = paymentIds[i]!;
    await seedGatewayTx(db.db, {
      provider: p.provider ?? 'payunity',
      id,
      amountMinor: p.amountMinor,
      currency: p.currency ?? 'EUR',
    });
    ids.push(
      await seedDiscrepancy(db.db, runId, {
        provider: p.provider ?? 'payunity',
        type: 'duplicate_charge',
        transactionId: id,
        currency: p.currency ?? 'EUR',
        gatewayMinor: p.amountMinor,
        settledMinor: p.amountMinor,
      }),
    );
  }
  if (opts.plan !== false) await planRefunds(stageContext(db, config, runId), runId);
  const mine = new Set(paymentIds);
  return {
    runId,
    ids,
    paymentIds,
    servers,
    config,
    raw,
    refundsAtGateway() {
      const pu = servers.data.payunity
        .filter((r) => r.paymentType === 'RF' && mine.has(String(r.referencedId)))
        .map(
          (r) =>
            [
              String(r.referencedId),
              String(r.amount),
              String(r.currency),
              String(r.merchantTransactionId),
            ] as [string, string, string, string],
        );
      const ue = servers.data.useepay.refunds
        .filter((r) => mine.has(String(r.payment_intent_id)))
        .map(
          (r) =>
            [
              String(r.payment_intent_id),
              String(r.amount),
              String(r.currency),
              String((r.metadata as Record<string, unknown> | null)?.payrecon_idempotency_key),
            ] as [string, string, string, string],
        );
      return [...pu, ...ue];
    },
    close: () => servers.close(),
  };
}
