// Keeps the planner's idea of how many records a provider has in gateway_transactions within a small factor of
// the truth while a pull writes them.
//
// Every statement of the pull names the provider, and the planner sizes `provider = …` from the table's last
// ANALYZE. A provider's first pull into a table analysed without it (a second provider added later, or pulled
// on its own first) is taken for one row: scanning "all" of that provider's records by the primary key's prefix
// then looks free, and the chargeback valuation and the root walk did exactly that per chunk, which made such a
// pull quadratic: in a 1.15M-record pull, one walk took 13-17 s with a few thousand of the provider's records
// stored, and the valuation 135-165 s in all. Autoanalyze comes too late: it waits for a tenth of the table to
// change, and looks at the table about once a minute. The valuation and the walk's root lookups are now written
// so that their plans do not depend on the provider's estimate; the other statements (the walk's update, the
// sample before a COPY, the upsert) still do.
import type pg from 'pg';

/** Records of a provider stored before the first refresh, and the factor by which reality may outgrow belief. */
const FIRST = 1_000;
const FACTOR = 4;

export class ProviderStats {
  private readonly stored = new Map<string, number>();
  private disabled = false;

  constructor(private readonly client: pg.PoolClient) {}

  /**
   * Counts records just committed per provider; when a provider's count this pull passes FIRST and FACTOR times
   * what the statistics believe it holds, refreshes the statistics of the provider column. A refresh reads a
   * fixed sample (0.15-0.2 s of the server at 800k records), so a first pull of N records pays for about
   * log4(N / FIRST) of them. Best effort: a role that may not analyse the table, or a refresh that would wait for
   * a lock (another session analysing), is skipped; the statements stay correct, only slower.
   */
  async afterCommit(ids: ReadonlyMap<string, readonly string[]>): Promise<void> {
    if (this.disabled) return;
    for (const [provider, list] of ids) {
      const n = (this.stored.get(provider) ?? 0) + list.length;
      this.stored.set(provider, n);
      if (n < FIRST) continue;
      // Read again each time: autoanalyze may have changed the statistics meanwhile, for better or worse.
      const believed = await this.belief(provider);
      if (n < FACTOR * believed) continue;
      const outcome = await this.refresh();
      if (outcome === 'busy') continue;
      // Nothing learnt (the role may not analyse the table: the server skips it with a warning): stop asking.
      if (outcome === 'failed' || (await this.belief(provider)) <= believed) {
        this.disabled = true;
        return;
      }
    }
  }

  /**
   * Rows of `provider` the planner expects, as it estimates them: the provider's most-common-value frequency
   * times the table's rows, scaled from the pages of the last ANALYZE to the pages the table has now.
   */
  private async belief(provider: string): Promise<number> {
    const { rows } = await this.client.query<{ n: number }>(
      `select coalesce((
         select m.f from pg_stats s
         cross join lateral unnest(s.most_common_vals::text::text[], s.most_common_freqs) as m(v, f)
         where s.schemaname = current_schema() and s.tablename = 'gateway_transactions' and s.attname = 'provider'
           and m.v = $1), 0)
         * case when c.relpages > 0 and c.reltuples > 0
             then c.reltuples / c.relpages * (pg_relation_size(c.oid) / current_setting('block_size')::int)
             else 0 end as n
       from pg_class c where c.oid = 'gateway_transactions'::regclass`,
      [provider],
    );
    return Number(rows[0]?.n ?? 0);
  }

  private async refresh(): Promise<'done' | 'busy' | 'failed'> {
    try {
      await this.client.query(`begin; set local lock_timeout = '100ms'`);
      await this.client.query('analyze gateway_transactions (provider)');
      await this.client.query('commit');
      return 'done';
    } catch (e) {
      await this.client.query('rollback').catch(() => undefined);
      // Lock not granted: someone else is analysing the table; try again after a later chunk.
      return (e as { code?: string }).code === LOCK_NOT_AVAILABLE ? 'busy' : 'failed';
    }
  }
}

/** SQLSTATE lock_not_available. */
const LOCK_NOT_AVAILABLE = '55P03';
