// The report reads everything inside one read-only, repeatable-read transaction on one connection, so every sheet
// sees the same data (the Summary's totals tie to the Discrepancies rows even if a run is writing meanwhile).
// Large results come through a server-side cursor, a batch at a time: memory stays flat in the number of rows.
// Small results that each aggregate a whole range can be read at the same time on other connections of the pool
// that import the transaction's snapshot (pg_export_snapshot), so they still see exactly the same data.
import type { CompiledQuery } from 'kysely';
import type pg from 'pg';
import { Limiter } from '../shared/concurrent.js';

type Rows<Q> = Q extends CompiledQuery<infer R> ? R[] : never;

export interface Snapshot {
  /** A small result, read at once. */
  all<R>(query: CompiledQuery<R>): Promise<R[]>;
  /** A result of any size, fetched through a cursor in batches. */
  stream<R>(query: CompiledQuery<R>): AsyncGenerator<R>;
  /**
   * Small results read at the same time, each in a session of its own that shares this snapshot: for aggregates
   * over a whole range, which the server runs one per core. Never more sessions than the pool holds.
   */
  allAtOnce<const Q extends readonly CompiledQuery<unknown>[]>(
    queries: Q,
  ): Promise<{ [K in keyof Q]: Rows<Q[K]> }>;
}

export async function withSnapshot<T>(
  pool: pg.Pool,
  fn: (snap: Snapshot) => Promise<T>,
  batchSize = 2000,
): Promise<T> {
  const client = await pool.connect();
  let cursorNo = 0;
  const snap: Snapshot = {
    async all<R>(query: CompiledQuery<R>) {
      const res = await client.query<R & pg.QueryResultRow>(query.sql, query.parameters as unknown[]);
      return res.rows;
    },
    async *stream<R>(query: CompiledQuery<R>) {
      const name = `report_cursor_${++cursorNo}`;
      // DECLARE accepts bind parameters through the extended protocol, so values never enter the SQL text.
      await client.query(`declare ${name} no scroll cursor for ${query.sql}`, query.parameters as unknown[]);
      let finished = false;
      const fetch = () => {
        const p = client.query<R & pg.QueryResultRow>(`fetch ${batchSize} from ${name}`);
        p.catch(() => undefined); // handled where it is awaited; never an unhandled rejection meanwhile
        return p;
      };
      // The next batch is asked for before this one is written out: Postgres reads while we format (two cores).
      let next: ReturnType<typeof fetch> | undefined = fetch();
      try {
        while (next) {
          const res: Awaited<ReturnType<typeof fetch>> = await next;
          next = res.rows.length < batchSize ? undefined : fetch();
          for (const row of res.rows) yield row;
        }
        finished = true;
      } finally {
        // Stopped early or failed: let an in-flight fetch land; the rollback at the end drops the cursor.
        if (finished) await client.query(`close ${name}`);
        else await next?.catch(() => undefined);
      }
    },
    async allAtOnce<const Q extends readonly CompiledQuery<unknown>[]>(queries: Q) {
      // The pool's other connections, less the one this snapshot holds (taking more would wait on ourselves).
      const helpers = Math.min(queries.length - 1, (pool.options.max ?? 10) - 1);
      const run = (q: CompiledQuery<unknown>) => snap.all(q);
      if (helpers < 1) {
        const out: unknown[] = [];
        for (const q of queries) out.push(await run(q));
        return out as { [K in keyof Q]: Rows<Q[K]> };
      }
      snapshotId ??= (await client.query<{ id: string }>('select pg_export_snapshot() as id')).rows[0]!.id;
      const id = snapshotId;
      const slots = new Limiter(helpers);
      const [first, ...rest] = queries;
      const out = await Promise.all([
        run(first!),
        ...rest.map((q) => slots.run(() => inSnapshot(pool, id, q))),
      ]);
      return out as { [K in keyof Q]: Rows<Q[K]> };
    },
  };
  let snapshotId: string | undefined;
  let done = false;
  try {
    await client.query('begin isolation level repeatable read read only');
    const out = await fn(snap);
    await client.query('commit');
    done = true;
    return out;
  } finally {
    if (!done) await client.query('rollback').catch(() => undefined);
    client.release(!done);
  }
}

/** One query in a read-only transaction of its own that imports snapshot `id`. */
async function inSnapshot(pool: pg.Pool, id: string, query: CompiledQuery<unknown>): Promise<unknown[]> {
  const helper = await pool.connect();
  let ok = false;
  try {
    await helper.query('begin isolation level repeatable read read only');
    // The id is the server's own (pg_export_snapshot); SET TRANSACTION SNAPSHOT takes no bind parameter.
    await helper.query(`set transaction snapshot '${id.replace(/'/g, "''")}'`);
    const res = await helper.query<pg.QueryResultRow>(query.sql, query.parameters as unknown[]);
    await helper.query('commit');
    ok = true;
    return res.rows;
  } finally {
    if (!ok) await helper.query('rollback').catch(() => undefined);
    helper.release(!ok);
  }
}
