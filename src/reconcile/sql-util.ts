import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/connect.js';
import { EXPONENTS } from '../shared/money.js';

/** Settlement line kinds matched one to one; `fee` and `adjustment` lines only add to fee totals. */
export const MATCHABLE_KINDS = sql.raw(`('payment', 'refund', 'chargeback', 'chargeback_reversal')`);

/** `D` + 16 hex digits of SHA-256 of `provider|type|key`. sha256() is built in since PG 11 (no pgcrypto). */
export function discrepancyIdSql(
  provider: RawBuilder<unknown>,
  type: RawBuilder<unknown>,
  key: RawBuilder<unknown>,
) {
  return sql`'D' || left(encode(sha256(convert_to(${provider} || '|' || ${type} || '|' || ${key}, 'UTF8')), 'hex'), 16)`;
}

/**
 * The key of a discrepancy about one settlement line: its transaction id; without one, `ref:<merchant reference>`;
 * without either, `line:<file name>:<line number>` (a key per line, so such lines are never merged, and a later run
 * can find the line again by it).
 */
export function lineKeySql(
  tid: RawBuilder<unknown>,
  ref: RawBuilder<unknown>,
  fileName: RawBuilder<unknown>,
  lineNo: RawBuilder<unknown>,
) {
  return sql`coalesce(${tid}, 'ref:' || ${ref}, 'line:' || ${fileName} || ':' || ${lineNo})`;
}

/**
 * Where a finding's settlement line is, for Detail: "payment line 15 of <file>: " (a primary-key probe per finding,
 * evaluated only for the rows a classification keeps).
 */
export function lineAtSql(
  kind: RawBuilder<unknown>,
  fileId: RawBuilder<unknown>,
  lineNo: RawBuilder<unknown>,
) {
  return sql`format('%s line %s of %s: ', ${kind}, ${lineNo},
    (select sf.file_name from settlement_files sf where sf.id = ${fileId}))`;
}

/** A Detail's list of lines, in SQL: the first five `text`s by `order` (an aggregate), then listedSql. */
export function firstLinesSql(text: RawBuilder<unknown>, order: RawBuilder<unknown>) {
  return sql`(array_agg(${text} order by ${order}))[1:5]`;
}

/** The list firstLinesSql took, of `n` lines in all: "a, b, c, d, e and 3 more". */
export function listedSql(lines: RawBuilder<unknown>, n: RawBuilder<unknown>) {
  return sql`(array_to_string(${lines}, ', ') || case when ${n} > 5 then format(' and %s more', ${n} - 5) else '' end)`;
}

/** Runs one statement and returns how many rows it touched. */
export async function exec(db: Db, query: RawBuilder<unknown>): Promise<number> {
  const res = await query.execute(db);
  return Number(res.numAffectedRows ?? 0n);
}

/** The decimals of `currency`'s minor unit, in SQL (currencyExponent's table). */
function exponentSql(currency: RawBuilder<unknown>) {
  const cases = Object.entries(EXPONENTS).map(([code, exp]) => `when '${code}' then ${exp}`);
  return sql`(case ${currency} ${sql.raw(cases.join(' '))} else 2 end)`;
}

/** Minor units as text a reader of a Detail column can take in: (727, 'EUR') -> '7.27 EUR', (500, 'JPY') -> '500 JPY'. */
export function majorTextSql(minor: RawBuilder<unknown>, currency: RawBuilder<unknown>) {
  const exp = exponentSql(currency);
  return sql`(round(${minor}::numeric / power(10::numeric, ${exp}), ${exp})::text || ' ' || ${currency})`;
}
