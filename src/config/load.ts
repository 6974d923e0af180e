import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../shared/errors.js';
import { urlPasswords } from '../shared/redact-url.js';
import { interpolateEnv, type Env } from './interpolate.js';
import { configSchema, type Config } from './schema.js';

export interface LoadedConfig {
  config: Config;
  /** The file it came from, or undefined for a configuration built in code (demo, tests). */
  file: string | undefined;
  /** Every secret value in the configuration, so that log lines and messages can be scrubbed of them. */
  secrets: string[];
}

/** --config, else PAYRECON_CONFIG, else ./payrecon.config.yaml. An empty PAYRECON_CONFIG (`PAYRECON_CONFIG=`) is unset. */
export function resolveConfigPath(explicit: string | undefined, env: Env): string {
  return path.resolve(explicit ?? (env.PAYRECON_CONFIG || undefined) ?? './payrecon.config.yaml');
}

export function loadConfigFile(file: string, env: Env): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'ENOENT'
        ? `configuration file ${file} not found (use --config FILE or PAYRECON_CONFIG)`
        : `cannot read ${file}: ${code}`,
      { cause: e },
    );
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, merge: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    // The parser's first line ends with a colon that introduced its excerpt of the file.
    const what = first?.message.split('\n')[0]?.replace(/:\s*$/, '') || 'parse error';
    throw new ConfigError(`${file}: invalid YAML: ${what}`);
  }
  return parseConfig(doc.toJS() ?? {}, env, file);
}

export function parseConfig(raw: unknown, env: Env, file?: string): LoadedConfig {
  const origins: Record<string, string> = {};
  // Every value that cannot be interpolated is named, with every problem the schema finds in the rest: one line.
  const unresolved = new Map<string, string>();
  const interpolated = interpolateEnv(raw, env, [], origins, unresolved) as Record<string, unknown>;
  // DATABASE_URL in the environment stands in for an absent database.url (the embedded server otherwise).
  const database = (interpolated.database ?? {}) as Record<string, unknown>;
  const urlFromEnv = database.url === undefined && Boolean(env.DATABASE_URL);
  if (urlFromEnv) interpolated.database = { ...database, url: env.DATABASE_URL };
  const result = configSchema.safeParse(interpolated);
  if (!result.success || unresolved.size > 0) {
    // A value left out for its variable is not also "required".
    const issues = (result.error?.issues ?? []).filter((i) => !unresolved.has(i.path.join('.')));
    const fromEnv = urlFromEnv ? { ...origins, 'database.url': 'DATABASE_URL' } : origins;
    throw new ConfigError(
      [...unresolved.values(), ...(issues.length > 0 ? [formatIssues(issues, fromEnv)] : [])].join('; '),
    );
  }
  const config = resolvePaths(result.data, file ? path.dirname(file) : process.cwd());
  return { config, file, secrets: collectSecrets(config) };
}

/** Every problem, on one line; a key that came from the environment is named by its variable. */
function formatIssues(issues: z.core.$ZodIssue[], fromEnv: Record<string, string>): string {
  if (issues.length === 0) return 'invalid configuration';
  const describe = (i: z.core.$ZodIssue) => {
    const at = i.path.join('.');
    const variable = fromEnv[at];
    const key = variable ? `${variable} (${at})` : at || '(root)';
    if (i.code === 'unrecognized_keys')
      return `${[key === '(root)' ? '' : key + '.', i.keys[0]].join('')}: unknown key`;
    if (i.code === 'invalid_type' && i.message.includes('received undefined')) return `${key}: required`;
    // A bad key of a record (a currency of refunds.maxPerRefund): zod says only "Invalid key in record"; its own
    // check says what is wrong with the key.
    if (i.code === 'invalid_key' && i.issues[0]) return `${key}: ${i.issues[0].message}`;
    return `${key}: ${i.message}`;
  };
  const shown = issues.slice(0, MAX_ISSUES_SHOWN).map(describe);
  const rest = issues.length - shown.length;
  return shown.join('; ') + (rest > 0 ? ` (and ${rest} more problem${rest > 1 ? 's' : ''})` : '');
}

const MAX_ISSUES_SHOWN = 10;

/** Relative paths in the configuration are relative to the configuration file, not to the working directory. */
function resolvePaths(config: Config, base: string): Config {
  const abs = (p: string | undefined) => (p === undefined ? undefined : path.resolve(base, p));
  config.reports.dir = abs(config.reports.dir) ?? config.reports.dir;
  config.database.embedded.dataDir =
    abs(config.database.embedded.dataDir) ?? config.database.embedded.dataDir;
  for (const p of [config.providers.payunity, config.providers.useepay]) {
    if (!p) continue;
    p.settlement.localDir = abs(p.settlement.localDir);
    p.settlement.archiveDir = abs(p.settlement.archiveDir);
    if (p.settlement.sftp) p.settlement.sftp.privateKeyPath = abs(p.settlement.sftp.privateKeyPath);
  }
  return config;
}

function collectSecrets(config: Config): string[] {
  const values = [
    config.providers.payunity?.accessToken,
    config.providers.useepay?.apiKey,
    config.providers.payunity?.settlement.sftp?.password,
    config.providers.payunity?.settlement.sftp?.passphrase,
    config.providers.useepay?.settlement.sftp?.password,
    config.providers.useepay?.settlement.sftp?.passphrase,
    config.notify.webhookUrl,
    ...(config.database.url ? urlPasswords(config.database.url) : []),
  ];
  return [...new Set(values.filter((v): v is string => typeof v === 'string' && v.length >= 4))];
}
