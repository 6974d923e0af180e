// Movements held awaiting by a settlement file that arrived and was not loaded (docs/matching.md, "Settlement lag").
// A fetch leaves a file for the next fetch when it cannot read it now (gone, unreadable, modified too recently, not
// the size listed). The lines of the movements falling due are very likely inside it: calling them
// missing_in_settlement tonight would open discrepancies that the next night closes again.
import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import type { MatchParams } from './params.js';
import { exec } from './sql-util.js';
import type { HeldByFile, UnloadedSettlementFile } from './types.js';

/** The unloaded files of `providers` as parallel arrays for `unnest`, in a fixed order. */
export interface UnloadedRows {
  provider: string[];
  date: (string | null)[];
  file: string[];
  reason: string[];
}

export function unloadedRows(
  files: readonly UnloadedSettlementFile[],
  providers: readonly string[],
): UnloadedRows {
  const out: UnloadedRows = { provider: [], date: [], file: [], reason: [] };
  for (const f of files) {
    if (!providers.includes(f.provider)) continue;
    out.provider.push(f.provider);
    out.date.push(f.settlementDate);
    out.file.push(f.file);
    out.reason.push(f.reason);
  }
  return out;
}

/**
 * How many days past its deadline a left file may hold a movement. A file that cannot be loaded for a week needs
 * someone (it is named in every night's Run info), and its movements must not wait out of sight: past this they
 * open as missing_in_settlement like any other, and close when the file is loaded. Well inside the 45 days a run
 * carries awaiting movements in (scope.ts), so a held movement is never dropped unreported.
 */
export const HELD_AT_MOST_DAYS = 7;

/**
 * Marks the unmatched movements of rc_unmatched past their deadline (by at most HELD_AT_MOST_DAYS) that a left
 * file could settle: one of their
 * provider whose settlement date lies between the movement's local transaction date and its deadline (inclusive),
 * or whose date is unknown. Each is held by one file, the earliest dated (then by name; an undated file last). A
 * movement already open as missing_in_settlement is not held: it stays open until its line comes.
 * One statement over the whole set; the files are a handful.
 */
export async function markHeld(db: Db, p: MatchParams): Promise<void> {
  const u = p.unloaded;
  if (u.file.length === 0) return;
  await exec(
    db,
    sql`
    update rc_unmatched x set held_file = h.file, held_date = h.d, held_reason = h.reason
    from (
      select distinct on (x.provider, x.transaction_id, x.gateway_type)
        x.provider, x.transaction_id, x.gateway_type, f.file, f.d, f.reason
      from rc_unmatched x
      join unnest(${u.provider}::text[], ${u.date}::date[], ${u.file}::text[], ${u.reason}::text[])
        as f(provider, d, file, reason)
        on f.provider = x.provider and (f.d is null or f.d between x.local_date and x.deadline)
      where x.deadline < ${p.asOf}::date and x.deadline >= ${p.asOf}::date - ${HELD_AT_MOST_DAYS}::int
        and not exists (select 1 from rc_open o where o.provider = x.provider
                        and o.type = 'missing_in_settlement' and o.transaction_id = x.transaction_id)
      order by x.provider, x.transaction_id, x.gateway_type, f.d nulls last, f.file
    ) h
    where h.provider = x.provider and h.transaction_id = x.transaction_id and h.gateway_type = x.gateway_type`,
  );
}

/**
 * Per holding file: how many movements it holds awaiting, and their signed sum per currency. Without left files
 * nothing is held, and the unmatched movements of a large range are not read again to find that out.
 */
export async function heldByFile(db: Db, p: MatchParams): Promise<HeldByFile[]> {
  if (p.unloaded.file.length === 0) return [];
  const rows = await sql<{
    provider: string;
    file: string;
    d: string | null;
    reason: string;
    currency: string;
    n: number;
    amount: number;
  }>`
    select provider, held_file as file, to_char(held_date, 'YYYY-MM-DD') as d, held_reason as reason, currency,
      count(*)::int as n, sum(amount)::bigint as amount
    from rc_unmatched where held_file is not null
    group by provider, held_file, held_date, held_reason, currency
    order by provider, held_date nulls last, held_file, currency`.execute(db);
  const out: HeldByFile[] = [];
  for (const r of rows.rows) {
    let last = out.at(-1);
    if (!last || last.provider !== r.provider || last.file !== r.file || last.settlementDate !== r.d) {
      const file = { provider: r.provider, file: r.file, settlementDate: r.d, reason: r.reason };
      last = { ...file, count: 0, byCurrency: {}, detail: heldDetail(file) };
      out.push(last);
    }
    last.count += r.n;
    last.byCurrency[r.currency] = { count: r.n, amountMinor: r.amount };
  }
  return out;
}

/** Why a movement past its deadline is still awaiting: the Awaiting settlement sheet's Detail and the run's JSON. */
export function heldDetail(f: { file: string; settlementDate: string | null; reason: string }): string {
  const date = f.settlementDate === null ? 'a date its name does not give' : f.settlementDate;
  return `past its settlement deadline, but its settlement file ${f.file} for ${date} arrived and was not loaded: ${f.reason}`;
}
