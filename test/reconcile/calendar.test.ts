import { sql } from 'kysely';
import { describe, expect, test } from 'vitest';
import {
  addBusinessDays,
  businessDaysBetween,
  earliestDateDueFrom,
  isBusinessDay,
} from '../../src/reconcile/index.js';
import { eachDate } from '../../src/shared/dates.js';
import { testDbPerSuite } from '../helpers/db.js';

// 2026-11-20 is a Friday; 2026-11-25 a Wednesday we declare a holiday.
const HOL = ['2026-11-25'];

describe('business days in JS', () => {
  test('skip weekends', () => {
    expect(addBusinessDays('2026-11-20', 1, [])).toBe('2026-11-23');
    expect(addBusinessDays('2026-11-20', 3, [])).toBe('2026-11-25');
    expect(addBusinessDays('2026-11-21', 1, [])).toBe('2026-11-23'); // from a Saturday
    expect(addBusinessDays('2026-11-23', -1, [])).toBe('2026-11-20');
    expect(addBusinessDays('2026-11-21', 0, [])).toBe('2026-11-21');
  });
  test('skip holidays', () => {
    expect(addBusinessDays('2026-11-20', 3, HOL)).toBe('2026-11-26');
    expect(addBusinessDays('2026-11-26', -1, HOL)).toBe('2026-11-24');
    expect(businessDaysBetween('2026-11-20', '2026-11-26', HOL)).toBe(3);
    expect(businessDaysBetween('2026-11-26', '2026-11-20', HOL)).toBe(-3);
    expect(businessDaysBetween('2026-11-20', '2026-11-22', HOL)).toBe(0);
  });
  test('earliest date still due on a range start', () => {
    // Monday 23rd, lag 1: Friday's movements are due Monday; Thursday's were due Friday.
    expect(earliestDateDueFrom('2026-11-23', 1, [])).toBe('2026-11-20');
    expect(earliestDateDueFrom('2026-11-26', 3, HOL)).toBe('2026-11-20');
    expect(earliestDateDueFrom('2026-11-26', 0, HOL)).toBe('2026-11-26');
  });
  test('businessDaysBetween inverts addBusinessDays (forwards from any day, backwards from a business day)', () => {
    const hol = ['2026-12-25', '2027-01-01'];
    for (const d of eachDate('2026-12-18', '2027-01-08')) {
      for (const n of [0, 1, 2, 5, 9])
        expect(businessDaysBetween(d, addBusinessDays(d, n, hol), hol)).toBe(n);
      if (isBusinessDay(d, hol))
        for (const n of [-4, -1]) expect(businessDaysBetween(d, addBusinessDays(d, n, hol), hol)).toBe(n);
    }
  });
});

describe('SQL twins agree with JS', () => {
  const db = testDbPerSuite();

  test('payrecon_add_business_days and payrecon_business_days_between over a month, many lags and holidays', async () => {
    const holidays = ['2026-12-24', '2026-12-25', '2026-12-31', '2027-01-01'];
    const dates = eachDate('2026-12-10', '2027-01-12');
    const ns = [-7, -3, -1, 0, 1, 2, 3, 5, 10];
    const rows = await sql<{ d: string; n: number; added: string; between: number }>`
      select d::date::text as d, n, payrecon_add_business_days(d::date, n, ${holidays}::date[])::text as added,
        payrecon_business_days_between(d::date, date '2026-12-28', ${holidays}::date[]) as between
      from unnest(${dates}::date[]) d, unnest(${ns}::int[]) n`.execute(db.db);
    expect(rows.rows).toHaveLength(dates.length * ns.length);
    for (const r of rows.rows) {
      expect(`${r.d}+${r.n}=${r.added}`).toBe(`${r.d}+${r.n}=${addBusinessDays(r.d, r.n, holidays)}`);
      expect(r.between).toBe(businessDaysBetween(r.d, '2026-12-28', holidays));
    }
  });
});
