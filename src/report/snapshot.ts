// The report reads everything inside one read-only, repeatable-read transaction on one connection, so every sheet
// sees the same data (the Summary's totals tie to the Discrepancies rows even if a run is writing meanwhile).
// Large results come through a server-side cursor, a batch at a time: memory stays flat in the number of rows.
import type { CompiledQuery } from 'kysely';
import type pg from 'pg';

export interface Snapshot {
  /** A small result, read at once. */
  all<R>(query: CompiledQuery<R>): Promise<R[]>;
  /** A result of any size, fetched through a cursor in batches. */
  stream<R>(query: CompiledQuery<R>): AsyncGenerator<R>;
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
  };
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
