// Shared set-up for the gateway tests: a configuration pointing at the simulators, a stage context, a record.
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import type { GatewayTransaction } from '../../src/gateways/types.js';
import type { StageContext } from '../../src/jobs/context.js';
import type { SandboxCredentials } from '../../src/sandbox/data.js';
import type { TestDb } from '../helpers/db.js';
import { testStageContext } from '../helpers/context.js';

export interface SimUrls {
  payunityUrl: string;
  useepayUrl: string;
}

export function rawGatewayConfig(
  urls: SimUrls,
  creds: SandboxCredentials,
  dbUrl: string,
  pull: Record<string, unknown> = {},
) {
  const settlement = { source: 'local', localDir: '/tmp' };
  return {
    timezone: 'UTC',
    database: { url: dbUrl },
    providers: {
      payunity: {
        baseUrl: urls.payunityUrl,
        entityId: creds.payunity.entityId,
        accessToken: creds.payunity.accessToken,
        settlement,
        pull: { trailingDays: 0, ...pull },
      },
      useepay: {
        baseUrl: urls.useepayUrl,
        merchantNo: creds.useepay.merchantNo,
        appId: creds.useepay.appId,
        apiKey: creds.useepay.apiKey,
        settlement,
        pull: { trailingDays: 0, ...pull },
      },
    },
    log: { level: 'warn' },
  };
}

export function gatewayConfig(...args: Parameters<typeof rawGatewayConfig>): Config {
  return parseConfig(rawGatewayConfig(...args), {}).config;
}

export function stageContext(
  db: TestDb,
  config: Config,
  signal = new AbortController().signal,
): StageContext {
  return testStageContext(db, config, { signal });
}

export const noSleep = (): Promise<void> => Promise.resolve();

/** A succeeded PayUnity DB payment of 10.00 EUR as the clients map it, with the fields in `over` instead. */
export const gatewayRecord = (id: string, over: Partial<GatewayTransaction> = {}): GatewayTransaction => ({
  provider: 'payunity',
  transactionId: id,
  gatewayType: 'DB',
  kind: 'payment',
  status: 'succeeded',
  rootPaymentId: id,
  referencedId: null,
  merchantReference: `O-${id}`,
  amountMinor: 1000,
  currency: 'EUR',
  transactionTime: new Date('2026-11-20T10:00:00.123Z'),
  brand: 'VISA',
  resultCode: '000.100.110',
  raw: { id, note: 'émoji ✓ "quoted" \\ back' },
  ...over,
});
