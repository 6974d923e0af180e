// `config check --connect`: whether what the configuration names can be reached with the credentials it holds,
// before the first night finds out. Reads only: the database is not migrated, no file is downloaded, the gateways
// are asked for one page of the last minute, nothing is sent (no refund, no notification).
import type { Config, ProviderName } from '../../config/schema.js';
import { PROVIDERS } from '../../config/schema.js';
import { ping } from '../../db/connect.js';
import { pendingMigrationNames } from '../../db/migrate.js';
import { openDatabase } from '../../db/open.js';
import { createGatewayClient } from '../../gateways/index.js';
import type { GatewayClient } from '../../gateways/types.js';
import { fileNameDate, resolveProfile } from '../../settlement/profiles/index.js';
import { oneLine } from '../exit-codes.js';
import { redactUrl } from '../../shared/redact-url.js';
import type { Logger } from '../../shared/log.js';
import { createSource } from '../../sources/create.js';
import type { SettlementSource } from '../../sources/types.js';

export interface ReachCheck {
  check: 'database' | 'settlement' | 'gateway';
  /** Absent for the database. */
  provider?: ProviderName;
  /** Where: the database URL without its password, the settlement source, the gateway's base URL. */
  target: string;
  ok: boolean;
  /** What was found, or why it failed (one line). */
  detail: string;
}

export interface ReachDeps {
  log: Logger;
  now: () => Date;
  /** Injectable for tests; default the real factories. */
  openDb?: typeof openDatabase;
  source?: (provider: ProviderName, config: Config) => SettlementSource;
  gateway?: (provider: ProviderName, config: Config) => GatewayClient;
}

/** How far back the gateways are asked: one page of records is all the check reads. */
const GATEWAY_PROBE_MS = 60_000;

/** Every check the configuration calls for, in a fixed order (database, then each enabled provider's two). */
export async function checkReach(config: Config, deps: ReachDeps): Promise<ReachCheck[]> {
  const providers = PROVIDERS.filter((p) => config.providers[p]?.enabled);
  const perProvider = providers.map((p) =>
    Promise.all([checkSettlement(p, config, deps), checkGateway(p, config, deps)]),
  );
  const [db, ...rest] = await Promise.all([checkDatabase(config, deps), ...perProvider]);
  return [db, ...rest.flat()];
}

async function checkDatabase(config: Config, deps: ReachDeps): Promise<ReachCheck> {
  const target = config.database.url
    ? redactUrl(config.database.url, '(invalid database url)')
    : `embedded PostgreSQL in ${config.database.embedded.dataDir}`;
  try {
    const db = await (deps.openDb ?? openDatabase)(config, deps.log, { migrate: false });
    try {
      const version = await ping(db);
      const pending = await pendingMigrationNames(db.db);
      const schema =
        pending.length === 0
          ? 'schema up to date'
          : `${pending.length} migration(s) pending, ${pending.length === 1 ? pending[0] : `${pending[0]} to ${pending.at(-1)}`} ` +
            '(the next command applies them, or `payrecon migrate`)';
      return { check: 'database', target, ok: true, detail: `PostgreSQL ${version.text}; ${schema}` };
    } finally {
      await db.shutdown();
    }
  } catch (e) {
    return { check: 'database', target, ok: false, detail: oneLine(e) };
  }
}

async function checkSettlement(provider: ProviderName, config: Config, deps: ReachDeps): Promise<ReachCheck> {
  const settlement = config.providers[provider]!.settlement;
  let source: SettlementSource | undefined;
  let target =
    settlement.source === 'sftp' ? `sftp ${settlement.sftp?.host ?? ''}` : (settlement.localDir ?? '');
  try {
    source = deps.source?.(provider, config) ?? createSource(provider, settlement, deps.log);
    target = source.description;
    const listed = await source.list();
    const profile = resolveProfile(settlement.profile);
    const dated: string[] = [];
    // Names the pattern takes whose date is not in fileDateFormat: a fetch refuses each of them whole.
    const badDates: string[] = [];
    let ours = 0;
    for (const f of listed) {
      const m = fileNameDate(profile, f.name);
      if (!m.matches) continue;
      ours++;
      if (m.date) dated.push(m.date);
      if (m.refused) badDates.push(f.name);
    }
    const unreadable = listed.filter((f) => f.unavailable !== undefined).length;
    const newest = dated.sort().at(-1);
    badDates.sort();
    const detail =
      `${listed.length} file(s) listed, ${ours} named as the profile expects` +
      (newest ? `, the newest for ${newest}` : '') +
      (badDates.length > 0
        ? `; ${badDates.length} whose name's date is not in fileDateFormat ${profile.fileDateFormat?.source ?? ''} ` +
          `(${badDates[0]}${badDates.length > 1 ? ', …' : ''}), which a fetch refuses: ` +
          `check providers.${provider}.settlement.profile.fileDateFormat`
        : '') +
      (unreadable > 0 ? `; ${unreadable} listed but unreadable` : '');
    return { check: 'settlement', provider, target, ok: true, detail };
  } catch (e) {
    return { check: 'settlement', provider, target, ok: false, detail: oneLine(e) };
  } finally {
    await source?.close().catch(() => undefined);
  }
}

async function checkGateway(provider: ProviderName, config: Config, deps: ReachDeps): Promise<ReachCheck> {
  const p = config.providers[provider]!;
  const target = p.baseUrl;
  // One attempt: a check that retries for minutes hides the answer the operator is waiting for.
  const once: Config = {
    ...config,
    providers: { ...config.providers, [provider]: { ...p, pull: { ...p.pull, retries: 0 } } },
  };
  try {
    const client = deps.gateway?.(provider, once) ?? createGatewayClient(provider, once, { log: deps.log });
    const to = deps.now();
    const pages = client.pull({ from: new Date(to.getTime() - GATEWAY_PROBE_MS), to });
    let records = 0;
    for await (const page of pages) {
      records = page.records.length + (page.rejected?.length ?? 0);
      break;
    }
    return {
      check: 'gateway',
      provider,
      target,
      ok: true,
      detail: `answered with these credentials (${records} record(s) in the last minute)`,
    };
  } catch (e) {
    return { check: 'gateway', provider, target, ok: false, detail: oneLine(e) };
  }
}

/** "database", "payunity settlement", "useepay gateway". */
export function reachName(c: ReachCheck): string {
  return c.provider ? `${c.provider} ${c.check}` : c.check;
}

/** The lines `config check --connect` prints: one per check, `ok` or `FAIL` first. */
export function formatReach(checks: readonly ReachCheck[]): string {
  return checks
    .map((c) => `${c.ok ? 'ok  ' : 'FAIL'}  ${reachName(c).padEnd(20)} ${c.target}: ${c.detail}`)
    .join('\n');
}
