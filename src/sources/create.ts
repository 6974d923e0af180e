import path from 'node:path';
import type { Config, ProviderName, SettlementConfig } from '../config/schema.js';
import { ConfigError } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import { LocalFolderSource } from './local.js';
import { SftpSource } from './sftp.js';
import type { SettlementSource } from './types.js';

/** The source a provider's settlement configuration describes. */
export function createSource(provider: ProviderName, s: SettlementConfig, log?: Logger): SettlementSource {
  if (s.source === 'sftp') {
    if (!s.sftp) throw new ConfigError(`providers.${provider}.settlement.sftp: required when source is sftp`);
    return new SftpSource(s.sftp, { log, configKey: `providers.${provider}.settlement.sftp` });
  }
  if (!s.localDir)
    throw new ConfigError(`providers.${provider}.settlement.localDir: required when source is local`);
  return new LocalFolderSource(s.localDir);
}

/**
 * Where fetched files are kept: `settlement.archiveDir`, else `<reports.dir>/../.payrecon/archive/<provider>`
 * (next to the embedded database's default `.payrecon/pg` when reports.dir is the default `./reports`).
 */
export function archiveDirFor(config: Config, provider: ProviderName): string {
  const configured = config.providers[provider]?.settlement.archiveDir;
  return path.resolve(configured ?? path.join(config.reports.dir, '..', '.payrecon', 'archive', provider));
}
