// The one way the rest of the program gets a gateway client.
import type { Config, ProviderName } from '../config/schema.js';
import { ConfigError } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import type { FetchFn, SleepFn } from './http.js';
import { PayunityClient } from './payunity/client.js';
import type { GatewayClient } from './types.js';
import { UseepayClient } from './useepay/client.js';

export interface GatewayDeps {
  log: Logger;
  fetch?: FetchFn;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export function createGatewayClient(
  provider: ProviderName,
  config: Config,
  deps: GatewayDeps,
): GatewayClient {
  const sleep: SleepFn | undefined = deps.sleep ? (ms) => deps.sleep!(ms) : undefined;
  const httpDeps = { log: deps.log, fetch: deps.fetch, sleep, random: deps.random };
  if (provider === 'payunity') {
    const c = config.providers.payunity;
    if (!c) throw new ConfigError('providers.payunity: required to use the payunity gateway');
    return new PayunityClient(c, httpDeps);
  }
  const c = config.providers.useepay;
  if (!c) throw new ConfigError('providers.useepay: required to use the useepay gateway');
  return new UseepayClient(c, httpDeps);
}
