/**
 * Query parameters of a PostgreSQL URL that hold a secret: node-postgres reads `?password=` (and the key's
 * `?sslpassword=`) as well as the password of `user:password@`.
 */
const SECRET_PARAMS = ['password', 'sslpassword'];

/** A connection URL with its passwords replaced, for messages and `config check`; `invalid` when it does not parse. */
export function redactUrl(url: string, invalid: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = 'redacted';
    for (const name of SECRET_PARAMS) if (u.searchParams.has(name)) u.searchParams.set(name, 'redacted');
    return u.toString();
  } catch {
    return invalid;
  }
}

/** Every password a connection URL carries (decoded, as the server gets them), so that text can be scrubbed of them. */
export function urlPasswords(url: string): string[] {
  try {
    const u = new URL(url);
    const found = [decodeURIComponent(u.password), ...SECRET_PARAMS.flatMap((n) => u.searchParams.getAll(n))];
    return found.filter((p) => p.length > 0);
  } catch {
    return [];
  }
}
