import type { Config } from './schema.js';
import { redactUrl } from '../shared/redact-url.js';

export const REDACTED = '[redacted]';
const SECRET_KEYS = new Set(['accessToken', 'apiKey', 'password', 'passphrase', 'webhookUrl']);

/** A deep copy of the configuration with every secret replaced, for `config check` and logs. */
export function redactConfig(config: Config): unknown {
  const walk = (node: unknown, key?: string): unknown => {
    if (key && SECRET_KEYS.has(key) && node !== undefined) return REDACTED;
    if (key === 'url' && typeof node === 'string') return redactUrl(node, REDACTED);
    if (Array.isArray(node)) return node.map((v) => walk(v));
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, k)]));
    }
    return node;
  };
  return walk(config);
}

/** Replaces every occurrence of a known secret value in a text (a log line, an error message). */
export function makeScrubber(secrets: readonly string[]): (text: string) => string {
  const list = [...secrets].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  if (list.length === 0) return (t) => t;
  return (text) => {
    let out = text;
    for (const s of list) if (out.includes(s)) out = out.split(s).join(REDACTED);
    return out;
  };
}

// Every secret of every configuration loaded in this process, so that even an error message printed by the CLI
// can be scrubbed of them.
const knownSecrets = new Set<string>();
export function rememberSecrets(secrets: readonly string[]): void {
  for (const s of secrets) knownSecrets.add(s);
}
export function scrubKnownSecrets(text: string): string {
  return makeScrubber([...knownSecrets])(text);
}
