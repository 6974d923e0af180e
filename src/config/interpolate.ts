import { ConfigError } from '../shared/errors.js';

// `${NAME}` is required, `${NAME:-default}` falls back, `${NAME:-}` leaves the setting unset.
const VAR_RE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Replaces `${VAR}` references in every string value of a parsed YAML tree. Substitution happens after parsing,
 * so a variable's value can never change the document's structure. A string that becomes empty through `${X:-}`
 * is removed, which leaves that optional setting unset.
 */
export function interpolateEnv(node: unknown, env: Env, path: string[] = []): unknown {
  if (typeof node === 'string') return interpolateString(node, env, path);
  if (Array.isArray(node)) {
    return node.map((v, i) => interpolateEnv(v, env, [...path, String(i)])).filter((v) => v !== undefined);
  }
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      const value = interpolateEnv(v, env, [...path, k]);
      if (value !== undefined) out[k] = value;
    }
    return out;
  }
  return node;
}

function interpolateString(text: string, env: Env, path: string[]): string | undefined {
  if (!text.includes('${')) return text;
  const out = text.replace(VAR_RE, (_m, name: string, fallback: string | undefined) => {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    throw new ConfigError(`${path.join('.') || '(root)'}: environment variable ${name} is not set`);
  });
  return out === '' ? undefined : out;
}
