// Money in a Detail column: the server's text of minor units agrees with formatMinor for every kind of currency.
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { majorTextSql } from '../../src/reconcile/sql-util.js';
import { formatMinor } from '../../src/shared/money.js';
import { testDbPerSuite } from '../helpers/db.js';

const db = testDbPerSuite();

describe('majorTextSql', () => {
  it('writes minor units in major units with the currency, as formatMinor does', async () => {
    const amounts = [0, 5, -5, 727, -727, 1234, 100000, -99999999999];
    const currencies = ['EUR', 'USD', 'JPY', 'KRW', 'KWD', 'BHD', 'VND', 'OMR'];
    const pairs = amounts.flatMap((m) => currencies.map((c) => [m, c] as const));
    const { rows } = await sql<{ text: string }>`
      select ${majorTextSql(sql`t.m`, sql`t.c`)} as text
      from unnest(${pairs.map((p) => p[0])}::bigint[], ${pairs.map((p) => p[1])}::text[])
        with ordinality as t(m, c, i)
      order by t.i`.execute(db.db);
    expect(rows.map((r) => r.text)).toEqual(pairs.map(([m, c]) => `${formatMinor(m, c)} ${c}`));
    expect(rows.map((r) => r.text)).toContain('7.27 EUR');
    expect(rows.map((r) => r.text)).toContain('727 JPY');
    expect(rows.map((r) => r.text)).toContain('1.234 KWD');
  });

  it('writes a code that is no accepted currency (a row stored before codes were checked) with two decimals', async () => {
    const { rows } = await sql<{
      text: string;
    }>`select ${majorTextSql(sql`727::bigint`, sql`'XYZ'::text`)} as text`.execute(db.db);
    expect(rows[0]?.text).toBe('7.27 XYZ');
  });
});
