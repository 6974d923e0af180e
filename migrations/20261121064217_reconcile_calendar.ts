// Business-day arithmetic for settlement deadlines, and indexes the matcher's scope queries need.
// Frozen once landed. Never import from src/ (src/reconcile/calendar.ts is the JS twin; a test keeps them equal).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Immutable and parameterised by the holiday list (configuration, not data), so the matcher calls it once per
  // distinct transaction date, never per row. Saturday and Sunday are never business days.
  // The search span 2n + 7 + 2h calendar days always holds n business days: any k days hold >= 5(k - 6)/7.
  await sql`
    create function payrecon_add_business_days(d date, n integer, holidays date[]) returns date
    language sql immutable parallel safe as $$
      select case
        when n = 0 then d
        when n > 0 then (
          select d + i from generate_series(1, 2 * n + 7 + 2 * coalesce(cardinality(holidays), 0)) as i
          where extract(isodow from d + i) < 6 and (d + i) <> all (coalesce(holidays, '{}'))
          order by i offset n - 1 limit 1)
        else (
          select d - i from generate_series(1, -2 * n + 7 + 2 * coalesce(cardinality(holidays), 0)) as i
          where extract(isodow from d - i) < 6 and (d - i) <> all (coalesce(holidays, '{}'))
          order by i offset -n - 1 limit 1)
      end
    $$
  `.execute(db);
  // Business days in (a, b], negative when b < a: the report's "Age (business days)".
  await sql`
    create function payrecon_business_days_between(a date, b date, holidays date[]) returns integer
    language sql immutable parallel safe as $$
      select (case when b >= a then 1 else -1 end) * count(*)::integer
      from generate_series(least(a, b) + 1, greatest(a, b), interval '1 day') as g
      where extract(isodow from g) < 6 and g::date <> all (coalesce(holidays, '{}'))
    $$
  `.execute(db);
  // Successful reversals are few; the matcher asks "is this payment reversed?" for every payment in scope.
  await sql`
    create index gateway_transactions_reversal_idx on gateway_transactions (provider, referenced_id)
      where kind = 'reversal'
  `.execute(db);
  // Lines matched by merchant reference are rare; the matcher reads them back for movements in its scope.
  await sql`
    create index matches_by_reference_idx on matches (provider, transaction_id, gateway_type)
      where match_key = 'merchant_reference'
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists matches_by_reference_idx`.execute(db);
  await sql`drop index if exists gateway_transactions_reversal_idx`.execute(db);
  await sql`drop function if exists payrecon_business_days_between(date, date, date[])`.execute(db);
  await sql`drop function if exists payrecon_add_business_days(date, integer, date[])`.execute(db);
}
