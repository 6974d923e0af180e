import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/connect.js';
import { exec } from './sql-util.js';

// Pairs settlement lines with gateway records (docs/matching.md, "Matching"), writes the current match of every
// line in scope to `matches`, and aggregates per matched record (rc_gm) what the checks need.
//   rc_pair  one row per line of rc_l (plus `ext` rows: lines outside rc_l matched earlier by merchant
//            reference to a record of the scope), with the matched record's columns copied, so that the checks
//            never join the whole scope twice
//   rc_gm    one row per matched record: number of lines, their gross sum, and its first line

/**
 * rc_gm: rc_pair's first line of each matched record, with `n` lines and their `sum_gross`. A subquery, not a
 * copy: rc_pair is as large as the range, and rc_dup is nearly always empty.
 */
export const RC_GM = sql.raw(`(
  select p.*, coalesce(d.n, 1) as n, coalesce(d.sum_gross, p.gross) as sum_gross
  from rc_pair p left join rc_dup d on d.provider = p.provider and d.g_tid = p.g_tid and d.g_type = p.g_type
  where p.g_tid is not null and (d.n is null or exists (select 1 from rc_dup_first f where f.id = p.id)))`);

/**
 * rc_pair's columns, line first, then the matched record's. Every check scans rc_pair, which is as large as the
 * range: the fixed-width columns lead (their offsets are cached), then the keys the scans filter and join on,
 * so that a scan deforms few columns of each row.
 */
const PAIR_COLS =
  sql.raw(`id, file_id, line_no, settlement_date, gross, fee, subject, in_range, ext, provider, g_tid,
  g_type, match_key, tid, ref, kind, currency, payment_id, transaction_time, g_kind, g_status, g_amount, g_currency,
  g_reversed, g_root, g_ref, g_time, g_brand`);

/** A line of rc_l (`l`) and its record of rc_g (`g`) in PAIR_COLS order; `key`: match_key. */
function pairSelect(ext: boolean, key: RawBuilder<unknown>) {
  return sql`l.id, l.file_id, l.line_no, l.settlement_date, l.gross, l.fee, l.subject, l.in_range,
    ${sql.raw(String(ext))} as ext, l.provider, g.transaction_id as g_tid, g.gateway_type as g_type, ${key} as match_key,
    l.tid, l.ref, l.kind, l.currency, l.payment_id, l.transaction_time, g.kind as g_kind, g.status as g_status,
    g.amount as g_amount, g.currency as g_currency, g.reversed as g_reversed, g.root as g_root,
    g.merchant_reference as g_ref, g.transaction_time as g_time, g.brand as g_brand`;
}

export async function pairLines(db: Db, runId: number | null): Promise<void> {
  // Key 1, transaction id: prefer the record whose kind fits the line (one PayUnity id can be an RG and a CF),
  // then one that moves money, then a fixed order so that reruns choose the same. Ids held by several records
  // are rare: every line takes its record by one hash join, and only when that gave some line more than one row
  // are that line's rows replaced by its preferred record. Finding those ids first (an aggregate over the whole
  // window) cost 0.3-0.5 s per provider at a million payments; two counts cost a tenth of that.
  await exec(
    db,
    sql`
    create temp table rc_pair on commit drop as
    select ${pairSelect(false, sql`case when g.transaction_id is not null then 'transaction_id' end`)}
    from rc_l l left join rc_g g on g.provider = l.provider and g.transaction_id = l.tid`,
  );
  const counts = await sql<{ extra: boolean }>`
    select (select count(*) from rc_pair) > (select count(*) from rc_l) as extra`.execute(db);
  if (counts.rows[0]?.extra === true) await keepPreferredRecord(db);
  await exec(db, sql`analyze rc_pair`);
  await exec(
    db,
    sql`
    insert into rc_pair (${PAIR_COLS})
    select ${pairSelect(true, sql`'merchant_reference'`)}
    from matches m
    join rc_g g on g.provider = m.provider and g.transaction_id = m.transaction_id and g.gateway_type = m.gateway_type
    cross join lateral (
      select sl.id, sl.file_id, sl.line_no, sl.settlement_date, sl.gross_minor as gross, sl.fee_minor as fee,
        false as subject, false as in_range, sl.provider, nullif(sl.transaction_id, '') as tid,
        nullif(sl.merchant_reference, '') as ref, sl.kind, sl.currency, sl.payment_id, sl.transaction_time
      from settlement_lines sl where sl.id = m.settlement_line_id) l
    where m.match_key = 'merchant_reference' and not exists (select 1 from rc_l x where x.id = m.settlement_line_id)`,
  );
  await matchByReference(db);
  await writeMatches(db, runId);
  await aggregatePerRecord(db);
}

/** rc_pair's lines that met several records of one id: their rows become one, with the preferred record. */
async function keepPreferredRecord(db: Db): Promise<void> {
  await exec(
    db,
    sql`create temp table rc_multi on commit drop as select id from rc_pair group by id having count(*) > 1`,
  );
  await exec(db, sql`delete from rc_pair p using rc_multi m where p.id = m.id`);
  await exec(
    db,
    sql`
    insert into rc_pair (${PAIR_COLS})
    select distinct on (l.id) ${pairSelect(false, sql`'transaction_id'`)}
    from rc_l l join rc_multi m on m.id = l.id
    join rc_g g on g.provider = l.provider and g.transaction_id = l.tid
    order by l.id, (g.kind = l.kind) desc, (g.amount is not null) desc, g.gateway_type`,
  );
}

/**
 * Key 2, merchant reference, for lines without a transaction id: same (provider, reference, kind, signed amount,
 * currency) and a transaction date in [date, deadline] around the settlement date. Greedy in rounds, each one
 * set-based: every open line proposes its earliest candidate (transaction time, id); every candidate accepts its
 * earliest proposer (settlement date, file, line). Rounds end when nothing pairs; there are as many as the
 * largest group of equal keys, so one or two in practice.
 */
async function matchByReference(db: Db): Promise<void> {
  await exec(
    db,
    sql`
    create temp table rc_refl on commit drop as
    select id, provider, ref, kind, gross, currency, settlement_date, file_id, line_no,
      null::text as g_tid, null::text as g_type
    from rc_pair where subject and not ext and tid is null and ref is not null`,
  );
  await exec(db, sql`analyze rc_refl`);
  await exec(
    db,
    sql`
    create temp table rc_refc on commit drop as
    select g.provider, g.transaction_id, g.gateway_type, g.kind, g.status, g.reversed, g.root, g.merchant_reference,
      g.amount, g.currency, g.transaction_time, g.local_date, g.brand, c.deadline, false as taken
    from rc_g g join rc_cal c on c.provider = g.provider and c.local_date = g.local_date
    where g.expected and (g.provider, g.merchant_reference) in (select provider, ref from rc_refl)`,
  );
  // Candidates a transaction id already paired are not candidates. Few rows: probed from rc_pair's one scan (an
  // anti-join would hash all of rc_pair).
  await exec(db, sql`analyze rc_refc`);
  await exec(
    db,
    sql`
    delete from rc_refc c using rc_pair p
    where p.provider = c.provider and p.g_tid = c.transaction_id and p.g_type = c.gateway_type`,
  );
  for (;;) {
    const paired = await exec(
      db,
      sql`
      with prop as (
        select distinct on (r.id) r.id, c.transaction_id, c.gateway_type, r.settlement_date, r.file_id, r.line_no
        from rc_refl r join rc_refc c
          on c.provider = r.provider and c.merchant_reference = r.ref and c.kind = r.kind and c.amount = r.gross
         and c.currency = r.currency and c.local_date <= r.settlement_date and c.deadline >= r.settlement_date
        where r.g_tid is null and not c.taken
        order by r.id, c.transaction_time, c.transaction_id, c.gateway_type
      ), acc as (
        select distinct on (transaction_id, gateway_type) * from prop
        order by transaction_id, gateway_type, settlement_date, file_id, line_no
      ), took as (
        update rc_refc c set taken = true from acc
        where c.transaction_id = acc.transaction_id and c.gateway_type = acc.gateway_type
      )
      update rc_refl r set g_tid = acc.transaction_id, g_type = acc.gateway_type from acc where r.id = acc.id`,
    );
    if (paired === 0) break;
  }
  // The rounds filled g_tid: without fresh statistics the planner takes the paired lines for one row and joins
  // them to the candidates by a nested loop (2000 x 2000 at 1M payments).
  await exec(db, sql`analyze rc_refl`);
  await exec(
    db,
    sql`
    update rc_pair p set g_tid = g.transaction_id, g_type = g.gateway_type, g_kind = g.kind, g_status = g.status,
      g_amount = g.amount, g_currency = g.currency, g_reversed = g.reversed, g_root = g.root,
      g_ref = g.merchant_reference, g_time = g.transaction_time, g_brand = g.brand, match_key = 'merchant_reference'
    from rc_refl r join rc_refc g on g.provider = r.provider and g.transaction_id = r.g_tid and g.gateway_type = r.g_type
    where r.g_tid is not null and p.id = r.id and not p.ext`,
  );
}

/**
 * The current match of each line in scope: unchanged rows are left alone, so a rerun rewrites nothing. New rows
 * are a plain insert (the first match of a range writes one per line; ON CONFLICT would probe and speculate per
 * row), changed ones an update. Nothing else writes `matches` while the run lock is held. New rows go in line
 * order: the primary key then grows at its right edge instead of at random pages.
 */
async function writeMatches(db: Db, runId: number | null): Promise<void> {
  await exec(
    db,
    sql`
    delete from matches m using rc_pair p
    where m.settlement_line_id = p.id and not p.ext and p.g_tid is null`,
  );
  // The changed rows first, into a table of their own: an INSERT that anti-joins the table it fills could rescan
  // its own new rows once per row.
  await exec(
    db,
    sql`
    create temp table rc_match_diff on commit drop as
    select p.id, p.provider, p.g_tid, p.g_type, p.match_key, m.settlement_line_id is not null as stored
    from rc_pair p left join matches m on m.settlement_line_id = p.id
    where not p.ext and p.g_tid is not null
      and (m.settlement_line_id is null or m.transaction_id <> p.g_tid or m.gateway_type <> p.g_type
           or m.match_key <> p.match_key)`,
  );
  await exec(
    db,
    sql`
    update matches m set transaction_id = d.g_tid, gateway_type = d.g_type, match_key = d.match_key,
      run_id = ${runId}::bigint, matched_at = now()
    from rc_match_diff d where d.stored and m.settlement_line_id = d.id`,
  );
  await exec(
    db,
    sql`
    insert into matches (settlement_line_id, provider, transaction_id, gateway_type, match_key, run_id)
    select id, provider, g_tid, g_type, match_key, ${runId}::bigint from rc_match_diff where not stored
    order by id`,
  );
}

/**
 * Per matched record: line count, gross sum, and the first line (earliest settlement date, then file, then line
 * number), whose amount and currency the checks use (RC_GM). Records on several lines are rare: only they are
 * aggregated and sorted.
 */
async function aggregatePerRecord(db: Db): Promise<void> {
  await exec(
    db,
    sql`
    create temp table rc_dup on commit drop as
    select provider, g_tid, g_type, count(*)::int as n, sum(gross)::bigint as sum_gross
    from rc_pair where g_tid is not null group by provider, g_tid, g_type having count(*) > 1`,
  );
  // Nearly always empty: with statistics the planner knows, and the joins below cost nothing.
  await exec(db, sql`analyze rc_dup`);
  await exec(
    db,
    sql`
    create temp table rc_dup_first on commit drop as
    select distinct on (p.provider, p.g_tid, p.g_type) p.id
    from rc_pair p join rc_dup d on d.provider = p.provider and d.g_tid = p.g_tid and d.g_type = p.g_type
    order by p.provider, p.g_tid, p.g_type, p.settlement_date, p.file_id, p.line_no`,
  );
}
