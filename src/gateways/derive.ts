// What the stored records imply but do not say, derived in SQL after each stored chunk: root payments (walking
// referenced_id up) and the value of chargebacks that carry no amount. Both paths of storing records run these.
import { sql, type RawBuilder } from 'kysely';

/**
 * The records of a chunk that reference another, per provider: their ids, gateway types and referenced ids, index
 * by index, as the chunk stored them.
 */
export interface Linked {
  ids: string[];
  types: string[];
  refs: string[];
}

/**
 * Root payments and chargeback values for a stored batch and the earlier records that wait on it. Only records
 * that reference another can change a root (their own, and their descendants'): `linked` lists just those, which
 * spares the walk a probe per plain payment.
 */
export async function derive(
  run: (q: RawBuilder<unknown>) => Promise<unknown>,
  ids: ReadonlyMap<string, string[]>,
  linked: ReadonlyMap<string, Linked>,
): Promise<void> {
  for (const [provider, list] of ids) {
    const walk = linked.get(provider);
    if (walk && walk.ids.length > 0) await run(resolveRoots(provider, walk));
    await run(valueChargebacks(provider, list));
  }
}

/**
 * A chunk's transaction ids per provider, and its records that reference another (see derive), from the rows'
 * providers, ids, gateway types and referenced ids, index by index.
 */
export function chunkIds(
  providers: readonly string[],
  txIds: readonly string[],
  types: readonly string[],
  refs: readonly (string | null)[],
): {
  ids: Map<string, string[]>;
  linked: Map<string, Linked>;
} {
  const ids = new Map<string, string[]>();
  const linked = new Map<string, Linked>();
  for (let i = 0; i < txIds.length; i++) {
    const provider = providers[i]!;
    const list = ids.get(provider);
    if (list) list.push(txIds[i]!);
    else ids.set(provider, [txIds[i]!]);
    const ref = refs[i];
    if (ref === null || ref === undefined) continue;
    let l = linked.get(provider);
    if (!l) linked.set(provider, (l = { ids: [], types: [], refs: [] }));
    l.ids.push(txIds[i]!);
    l.types.push(types[i]!);
    l.refs.push(ref);
  }
  return { ids, linked };
}

/**
 * Walks referenced_id up to the root payment for the records just stored, and for records stored earlier whose
 * walk stopped at one of them (a child can arrive before its parent: records are not ordered).
 *
 * The walk starts from the chunk's own values (id, gateway type, referenced id), which are what it just stored:
 * reading them back cost a primary-key probe per linked record, about a fifth of the walk.
 *
 * Every lookup is a LATERAL subquery fenced with `offset 0`, and the final update finds its rows by the ctids those
 * lookups returned (a TID scan): the plan stays primary-key and root-index probes, O(batch), whatever the
 * statistics say. Left to itself the planner hash-joins the provider's whole table per batch (it grows during a pull
 * faster than its statistics), or, when the statistics have not seen the provider, scans all its records by the
 * primary key's prefix; either made a pull quadratic in its size. The ctids are read and used by one statement;
 * if another pull rewrites one of these records meanwhile, its ctid has moved and the update skips it, and that
 * pull, which stored the record, walks it itself.
 */
export function resolveRoots(provider: string, linked: Linked): RawBuilder<unknown> {
  return sql`
    with recursive linked as (
      select * from unnest(${linked.ids}::text[], ${linked.types}::text[], ${linked.refs}::text[])
        as l(transaction_id, gateway_type, referenced_id)
    ),
    start as (
      select transaction_id, gateway_type, referenced_id as cur from linked
      union
      select c.transaction_id, c.gateway_type, c.referenced_id
      from (select distinct transaction_id from linked) l cross join lateral (
        -- By the root index alone, the provider checked after: with the provider beside the root, stale statistics
        -- made a scan of the provider's records by the primary key's prefix look cheaper (see valueChargebacks).
        select c.provider, c.transaction_id, c.gateway_type, c.referenced_id from gateway_transactions c
        where c.root_payment_id = l.transaction_id and c.referenced_id is not null
        offset 0
      ) c
      where c.provider = ${provider}
    ),
    walk as (
      select transaction_id, gateway_type, cur, 0 as depth from start
      union all
      -- depth bounds a malformed cycle; real chains are two or three links (PA -> CP -> RF).
      select w.transaction_id, w.gateway_type, p.referenced_id, w.depth + 1
      from walk w cross join lateral (
        select p.referenced_id from gateway_transactions p
        where p.provider = ${provider} and p.transaction_id = w.cur and p.referenced_id is not null and p.referenced_id <> p.transaction_id
        offset 0
      ) p
      where w.depth < 16
    ),
    roots as (
      select distinct on (transaction_id, gateway_type) transaction_id, gateway_type, cur as root
      from walk order by transaction_id, gateway_type, depth desc
    ),
    -- Each record whose root changes, found by its primary key, and then updated where it was found: a join of
    -- the table to roots would follow the provider's estimate (see valueChargebacks).
    changed as (
      select x.tid, r.root from roots r cross join lateral (
        select g.ctid as tid, g.root_payment_id from gateway_transactions g
        where g.provider = ${provider} and g.transaction_id = r.transaction_id and g.gateway_type = r.gateway_type
        offset 0
      ) x
      where x.root_payment_id is distinct from r.root
    )
    update gateway_transactions g set root_payment_id = c.root
    from changed c
    where g.ctid = any(array(select tid from changed)) and g.ctid = c.tid
  `;
}

/**
 * Chargebacks that carry no amount take the referenced payment's, negated, in its currency: for CBs just stored,
 * and for stored CBs whose payment just arrived.
 *
 * One scan of the partial index of unvalued chargebacks (a handful of rows, whatever the table size), and per
 * chargeback found, primary-key probes for its payment. Nothing here joins: a join's order followed the
 * provider's statistics, and when they were stale (a provider's first pull into a table that autoanalyze had seen
 * without it) the planner took the provider for one row and nested two scans of all its records, per batch
 * (one statement ran for over two minutes with 200k of the provider's records stored). `offset 0` keeps the
 * EXISTS a probe per chargeback rather than a join.
 */
export function valueChargebacks(provider: string, ids: string[]): RawBuilder<unknown> {
  return sql`
    with batch as (select distinct unnest(${ids}::text[]) as id)
    update gateway_transactions cb
    set (amount_minor, currency) = (
      select -abs(x.amount_minor), x.currency from gateway_transactions x
      where x.provider = cb.provider and x.transaction_id = cb.referenced_id and x.amount_minor is not null
      order by (x.kind = 'payment') desc, x.gateway_type limit 1)
    where cb.provider = ${provider} and cb.kind = 'chargeback' and cb.amount_minor is null and cb.referenced_id is not null
      and (cb.transaction_id in (select id from batch) or cb.referenced_id in (select id from batch))
      and exists (
        select 1 from gateway_transactions x
        where x.provider = cb.provider and x.transaction_id = cb.referenced_id and x.amount_minor is not null
        offset 0)
  `;
}
