import { ConfigError } from '../shared/errors.js';

// `${NAME}` is required, `${NAME:-default}` falls back, `${NAME:-}` leaves the setting unset. Matched only where a
// `${` starts (sticky), so that any other `${` is found and refused rather than kept as text.
const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/y;

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Replaces `${VAR}` references in every string value of a parsed YAML tree. Substitution happens after parsing,
 * so a variable's value can never change the document's structure. A string that becomes empty through `${X:-}`
 * is removed, which leaves that optional setting unset.
 */
export function interpolateEnv(
  node: unknown,
  env: Env,
  path: string[] = [],
  /** Filled with the key paths whose whole value is one variable's, and that variable's name (for messages). */
  origins: Record<string, string> = {},
  /**
   * When given, a value that cannot be interpolated (a variable not set, a malformed reference) is left out and its
   * problem added here by key path, so that every such value is named at once; without it, the first one throws.
   */
  problems?: Map<string, string>,
): unknown {
  if (typeof node === 'string') {
    const whole = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}$/.exec(node);
    if (whole && env[whole[1]!]) origins[path.join('.')] = whole[1]!;
    if (!problems) return interpolateString(node, env, path);
    try {
      return interpolateString(node, env, path);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.set(path.join('.'), e.message);
      return undefined;
    }
  }
  if (Array.isArray(node)) {
    return node
      .map((v, i) => interpolateEnv(v, env, [...path, String(i)], origins, problems))
      .filter((v) => v !== undefined);
  }
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      const value = interpolateEnv(v, env, [...path, k], origins, problems);
      if (value !== undefined) out[k] = value;
    }
    return out;
  }
  return node;
}

/**
 * Every `${` must start a well-formed reference: a typo such as `${NAME-x}`, or a default that holds another
 * reference (`${A:-${B}}`, not supported), would otherwise be kept as literal text and could be sent as a
 * credential. Messages give the position, not the text: the value may be a secret. A value's own text never needs
 * a literal `${`; one that does can come from a variable, whose value is not interpolated again.
 */
function interpolateString(text: string, env: Env, path: string[]): string | undefined {
  if (!text.includes('${')) return text;
  const key = path.join('.') || '(root)';
  let out = '';
  let done = 0;
  for (let at = text.indexOf('${'); at >= 0; at = text.indexOf('${', done)) {
    REFERENCE.lastIndex = at;
    const m = REFERENCE.exec(text);
    if (!m)
      throw new ConfigError(
        `${key}: malformed variable reference at character ${at + 1}: use \${NAME} or \${NAME:-default}`,
      );
    const [whole, name = '', fallback] = m;
    if (fallback?.includes('${'))
      throw new ConfigError(
        `${key}: nested variable reference at character ${at + 1}: a default cannot contain \${…}`,
      );
    out += text.slice(done, at) + resolve(name, fallback, env, key);
    done = at + whole.length;
  }
  out += text.slice(done);
  return out === '' ? undefined : out;
}

function resolve(name: string, fallback: string | undefined, env: Env, key: string): string {
  const value = env[name];
  if (value !== undefined && value !== '') return value;
  if (fallback !== undefined) return fallback;
  throw new ConfigError(`${key}: environment variable ${name} is not set`);
}
