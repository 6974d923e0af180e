// Bulk writes without per-row trigger work. A foreign key is enforced by a trigger that runs one lookup (and a
// row lock on the referenced row) per written row; for a million rows that is most of the server's work. Where
// the writer itself guarantees every referenced row exists and cannot vanish while it writes, the statement may
// run with `session_replication_role = replica`, which fires no ordinary triggers. Unique, check and not-null
// constraints are not triggers and stay enforced.

/** Runs one SQL text on the connection (or transaction) that will do the write. */
export type RunSql = (text: string) => Promise<{ rows: unknown[] }>;

/** pg_trigger.tgtype bits of the events a trigger fires on. */
const EVENT_BITS = { insert: 4, update: 16, delete: 8 } as const;

/**
 * Whether writes of `events` to `table` may skip row triggers on this connection: only when
 *  - the table has no trigger of its own firing on those events (one someone adds later must never be skipped
 *    silently; the foreign keys' internal triggers are the ones meant to be skipped),
 *  - and the database role may set the parameter (superuser, or granted SET on PostgreSQL 15+).
 * Must run inside a transaction (the probe uses a savepoint). Otherwise the write keeps its per-row checks.
 */
export async function mayWriteWithoutRowTriggers(
  run: RunSql,
  table: string,
  events: readonly (keyof typeof EVENT_BITS)[],
): Promise<boolean> {
  const mask = events.reduce((m, e) => m | EVENT_BITS[e], 0);
  const { rows } = await run(
    `select count(*)::int as n from pg_trigger t
      where t.tgrelid = '${table}'::regclass and not t.tgisinternal and (t.tgtype & ${mask}) <> 0`,
  );
  if (((rows[0] as { n?: number } | undefined)?.n ?? 1) > 0) return false;
  await run('savepoint payrecon_role_probe');
  try {
    await run('set local session_replication_role = replica');
    await run('set local session_replication_role = origin');
    await run('release savepoint payrecon_role_probe');
    return true;
  } catch {
    await run('rollback to savepoint payrecon_role_probe');
    return false;
  }
}

/** `write` with row triggers off when `allowed`, and on again after it (also when it fails). */
export async function withoutRowTriggers<T>(
  run: RunSql,
  allowed: boolean,
  write: () => Promise<T>,
): Promise<T> {
  if (!allowed) return write();
  await run('set local session_replication_role = replica');
  try {
    return await write();
  } finally {
    await run('set local session_replication_role = origin').catch(() => undefined);
  }
}
