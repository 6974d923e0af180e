// Shared set-up for the gateway tests: a configuration pointing at the simulators, and a stage context.
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
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
