import { sql } from 'kysely';
import type { ProviderName } from '../config/schema.js';
import type { Db } from '../db/connect.js';
import type { StageContext } from '../jobs/context.js';
import type { Logger } from '../shared/log.js';
import type { MatchParams } from './params.js';
import { MATCHABLE_KINDS } from './sql-util.js';
import type { MatchDeps, MatchSummary } from './types.js';

/**
 * Rounds of asking for the roots of the scope's records. A record found in one round may reference one older still
 * (a capture found leads to its authorisation), asked in the next; real chains are at most PA -> CP -> RF, two
 * rounds. The bound stops a gateway whose every answer references another record.
 */
const ROOT_ROUNDS = 4;

/**
 * Asks the gateway, before matching and outside any transaction, about what the scope names but nothing stored
 * is: first the transaction ids of lines (unknownLineIds), then the root payments that waiting chargebacks and
 * the records named by lines and open discrepancies lead to (unstoredRootIds), round by round while an answer leads
 * further up. Each id is asked at most once per run; an id the gateway does not know is left unknown (nothing is
 * stored for it) and asked again by the next run. Returns how many ids were handed to `deps.lookup`, per provider.
 */
export async function lookUpUnknown(
  ctx: StageContext,
  p: MatchParams,
  deps: MatchDeps,
  log: Logger,
): Promise<MatchSummary['lookedUp']> {
  const lookedUp: MatchSummary['lookedUp'] = {};
  const asked = new Map<ProviderName, Set<string>>();
  /** The ids of `found` not asked yet in this run. */
  const unasked = (found: Map<ProviderName, string[]>) =>
    new Map(
      [...found]
        .map(([provider, ids]) => [provider, ids.filter((id) => !asked.get(provider)?.has(id))] as const)
        .filter(([, ids]) => ids.length > 0),
    );
  const ask = async (ids: Map<ProviderName, string[]>, lookup: NonNullable<MatchDeps['lookup']>) => {
    for (const [provider, list] of ids) {
      ctx.signal.throwIfAborted();
      const seen = asked.get(provider) ?? new Set<string>();
      asked.set(provider, seen);
      for (const id of list) seen.add(id);
      await lookup(provider, list, ctx.signal);
      lookedUp[provider] = (lookedUp[provider] ?? 0) + list.length;
    }
  };
  const count = (ids: Map<ProviderName, string[]>) => [...ids.values()].reduce((n, l) => n + l.length, 0);

  const lines = await unknownLineIds(ctx.db, p);
  if (!deps.lookup) {
    if (lines.size > 0)
      log.warn({ ids: count(lines) }, 'unknown transaction ids not looked up: no gateway lookup given');
    return lookedUp;
  }
  if (lines.size > 0) {
    log.info({ ids: count(lines) }, 'looking up unknown transaction ids at the gateway');
    await ask(lines, deps.lookup);
  }
  for (let round = 1; ; round++) {
    ctx.signal.throwIfAborted();
    const roots = await unstoredRootIds(ctx.db, p);
    const fresh = unasked(roots);
    if (fresh.size === 0) {
      if (roots.size > 0) log.info({ ids: count(roots) }, 'root payments the gateway does not know either');
      break;
    }
    if (round > ROOT_ROUNDS) {
      log.warn(
        { ids: count(fresh), rounds: ROOT_ROUNDS },
        'root payments left unknown after the last round of lookups',
      );
      break;
    }
    log.info({ ids: count(fresh), round }, 'looking up root payments that refunds and chargebacks reference');
    await ask(fresh, deps.lookup);
  }
  return lookedUp;
}

/**
 * Transaction ids that settlement lines of the scope name but no stored gateway record has: lines of the range,
 * and lines of open missing_in_gateway discrepancies (re-asked on every run, the gateway may know them now).
 * Sorted, per provider.
 */
export async function unknownLineIds(db: Db, p: MatchParams): Promise<Map<ProviderName, string[]>> {
  const rows = await sql<{ provider: ProviderName; transaction_id: string }>`
    select distinct u.provider, u.transaction_id from (
      select sl.provider, sl.transaction_id from settlement_lines sl join settlement_files f on f.id = sl.file_id
      where f.status = 'loaded' and sl.kind in ${MATCHABLE_KINDS} and sl.provider = any (${p.providers}::text[])
        and sl.settlement_date between ${p.from}::date and ${p.to}::date
      union all
      select d.provider, d.transaction_id from discrepancies d
      where d.status = 'open' and d.type = 'missing_in_gateway' and d.provider = any (${p.providers}::text[])
        and d.transaction_id not like 'ref:%' and d.transaction_id not like 'line:%'
    ) u
    where coalesce(u.transaction_id, '') <> ''
      -- The provider filter on g is implied by the join, but the planner does not carry it through the union: said
      -- outright, the anti-join reads the scope's providers from the primary key (index-only) instead of the whole
      -- table (1M payments: 0.9 s -> 0.55 s per provider).
      and not exists (select 1 from gateway_transactions g
                      where g.provider = u.provider and g.transaction_id = u.transaction_id
                        and g.provider = any (${p.providers}::text[]))
    order by u.provider, u.transaction_id`.execute(db);
  return byProvider(rows.rows.map((r) => [r.provider, r.transaction_id]));
}

/** Kinds whose records lead to a root payment that matters to matching: its value, its ledger, its refund cap. */
const LINKED_KINDS = sql.raw(`('refund', 'chargeback', 'chargeback_reversal', 'payment')`);

/**
 * Root payments that records of the scope lead to but that no stored record is: the ids to ask the gateway about
 * by id. The records are chargebacks still without an amount (they wait on their payment), and the refunds,
 * chargebacks, chargeback reversals and captures that lines of the range and open discrepancies name. A record's
 * root is where the stored walk of referenced_id up stopped (derive.ts): a referenced record that is not stored, or
 * a stored one whose own parent is not. A refund of last month's sale settled today, a chargeback of it (valued at
 * its payment), a refund of a capture whose authorisation is older still: each waits on the payment this returns.
 * Not every record of the window: reading them all cost as much as building the match's scope (1M payments: about
 * 1.4 s per provider), and a refund not settled yet is judged against its payment once its line arrives.
 * Sorted, per provider.
 */
export async function unstoredRootIds(db: Db, p: MatchParams): Promise<Map<ProviderName, string[]>> {
  const rows = await sql<{ provider: ProviderName; root: string }>`
    with linked as (
      -- Chargebacks still without an amount: they wait on their payment (derive.ts values them once it is stored),
      -- so these are the ones whose payment is missing. The partial index holds only them, whatever their date.
      select g.provider, coalesce(g.root_payment_id, g.referenced_id) as root
      from gateway_transactions g
      where g.kind = 'chargeback' and g.amount_minor is null and g.provider = any (${p.providers}::text[])
        and g.referenced_id is not null
      union all
      -- Not payment lines: the captures among the records they name settle within their lag, so lie in the window,
      -- and the ledger counts a capture without its authorisation; their record for each would be a probe per line.
      select g.provider, coalesce(g.root_payment_id, g.referenced_id)
      from settlement_lines sl join settlement_files f on f.id = sl.file_id
      join gateway_transactions g on g.provider = sl.provider and g.transaction_id = sl.transaction_id
      where f.status = 'loaded' and sl.kind in ('refund', 'chargeback', 'chargeback_reversal')
        and sl.provider = any (${p.providers}::text[]) and sl.settlement_date between ${p.from}::date and ${p.to}::date
        and g.referenced_id is not null and g.kind in ${LINKED_KINDS}
      union all
      select g.provider, coalesce(g.root_payment_id, g.referenced_id)
      from discrepancies d join gateway_transactions g on g.provider = d.provider and g.transaction_id = d.transaction_id
      where d.status = 'open' and d.provider = any (${p.providers}::text[])
        and g.referenced_id is not null and g.kind in ${LINKED_KINDS}
    )
    select distinct l.provider, l.root from linked l
    where l.root <> ''
      and not exists (select 1 from gateway_transactions x where x.provider = l.provider and x.transaction_id = l.root)
    order by l.provider, l.root`.execute(db);
  return byProvider(rows.rows.map((r) => [r.provider, r.root]));
}

function byProvider(rows: readonly (readonly [ProviderName, string])[]): Map<ProviderName, string[]> {
  const out = new Map<ProviderName, string[]>();
  for (const [provider, id] of rows) {
    const list = out.get(provider);
    if (list) list.push(id);
    else out.set(provider, [id]);
  }
  return out;
}
