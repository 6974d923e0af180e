/** A connection URL with its password replaced, for messages and `config check`; `invalid` when it does not parse. */
export function redactUrl(url: string, invalid: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = 'redacted';
    return u.toString();
  } catch {
    return invalid;
  }
}
