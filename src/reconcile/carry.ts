import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import type { MatchParams } from './params.js';
import { exec } from './sql-util.js';

export interface CarryCounts {
  opened: number;
  reopened: number;
  unchanged: number;
  closed: number;
}

/**
 * Carries findings into `discrepancies` (docs/matching.md, "Scope of a run, carry-forward, reruns"): found ids are
 * upserted open (a closed one reopens, same id); every open discrepancy of the selected providers that this run
 * did not find is closed with a dated reason. The scope tables hold every open one's subject, so not finding one
 * means it no longer holds. Each change is recorded in run_discrepancies when there is a run.
 */
export async function carryForward(
  db: Db,
  p: MatchParams,
  runId: number | null,
  now: Date,
): Promise<CarryCounts> {
  await exec(
    db,
    sql`
    create temp table rc_change on commit drop as
    select f.id, case when d.id is null then 'opened' when d.status = 'closed' then 'reopened' else 'unchanged' end
      as change, null::text as reason
    from rc_found f left join discrepancies d on d.id = f.id
    union all
    select o.id, 'closed', null from rc_open o where not exists (select 1 from rc_found f where f.id = o.id)`,
  );

  // Why each closes: the missing side appeared (with its date), or the finding is simply gone on rerun.
  await exec(
    db,
    sql`
    with closing as (
      select o.* from rc_open o join rc_change c on c.id = o.id and c.change = 'closed'
    ), settled as (
      -- with the record's settlement deadline: a line dated by it settled on time, in a file loaded late
      select pr.provider, pr.g_tid, min(pr.settlement_date) as d, min(c.deadline) as due
      from rc_pair pr join closing o
        on o.type = 'missing_in_settlement' and pr.provider = o.provider and pr.g_tid = o.transaction_id
      left join rc_g g on g.provider = pr.provider and g.transaction_id = pr.g_tid and g.gateway_type = pr.g_type
      left join rc_cal c on c.provider = g.provider and c.local_date = g.local_date
      group by pr.provider, pr.g_tid
    ), known as (
      select distinct o.id from rc_pair pr join closing o
        on o.type = 'missing_in_gateway' and pr.provider = o.provider
       and coalesce(pr.tid, 'ref:' || pr.ref) = o.transaction_id
      where pr.subject and pr.g_tid is not null
    )
    update rc_change c set reason = case
      when s.d is not null and s.d <= s.due then 'settled on ' || to_char(s.d, 'YYYY-MM-DD')
        || ', within the settlement lag: its file was loaded after this was opened'
      when s.d is not null then 'settled late on ' || to_char(s.d, 'YYYY-MM-DD')
      when k.id is not null then 'found at the gateway on ' || ${p.asOf}::text
      else 'no longer found on rerun' end
    from closing o
    left join settled s on s.provider = o.provider and s.g_tid = o.transaction_id
    left join known k on k.id = o.id
    where c.id = o.id`,
  );

  await exec(
    db,
    sql`
    insert into discrepancies (id, provider, type, transaction_id, payment_id, merchant_reference, transaction_time,
      settlement_date, currency, gateway_amount_minor, settled_amount_minor, difference_minor, refundable_minor,
      detail, status, opened_run_id, opened_at, last_seen_run_id)
    select id, provider, type, transaction_id, payment_id, merchant_reference, transaction_time, settlement_date,
      currency, gateway_amount, settled_amount,
      -- no difference between amounts in two currencies; for refund_exceeds_payment, the excess: captured (the
      -- gateway amount) less what went back (the settled amount, negative), which is below 0
      case when type = 'refund_exceeds_payment' then gateway_amount + settled_amount
           when type <> 'currency_mismatch' then coalesce(settled_amount, 0) - coalesce(gateway_amount, 0) end,
      refundable, detail, 'open', ${runId}::bigint, ${now}, ${runId}::bigint
    from rc_found
    on conflict (id) do update set
      payment_id = excluded.payment_id, merchant_reference = excluded.merchant_reference,
      transaction_time = excluded.transaction_time, settlement_date = excluded.settlement_date,
      currency = excluded.currency, gateway_amount_minor = excluded.gateway_amount_minor,
      settled_amount_minor = excluded.settled_amount_minor, difference_minor = excluded.difference_minor,
      refundable_minor = excluded.refundable_minor, detail = excluded.detail, status = 'open',
      last_seen_run_id = coalesce(excluded.last_seen_run_id, discrepancies.last_seen_run_id),
      closed_run_id = null, closed_at = null, close_reason = null`,
  );
  await exec(
    db,
    sql`
    update discrepancies d set status = 'closed', closed_run_id = ${runId}::bigint, closed_at = ${now},
      close_reason = c.reason
    from rc_change c where c.id = d.id and c.change = 'closed'`,
  );
  if (runId !== null) {
    await exec(
      db,
      sql`
      insert into run_discrepancies (run_id, discrepancy_id, change)
      select ${runId}::bigint, id, change from rc_change
      on conflict (run_id, discrepancy_id) do update set change = excluded.change`,
    );
  }
  const rows = await sql<{ change: keyof CarryCounts; n: number }>`
    select change, count(*)::int as n from rc_change group by change`.execute(db);
  const out: CarryCounts = { opened: 0, reopened: 0, unchanged: 0, closed: 0 };
  for (const r of rows.rows) out[r.change] = r.n;
  return out;
}
