// The Summary's settlement batches: per provider, currency and batch, the counts and totals of every line kind, in
// the range, from loaded files only.
import { sql } from 'kysely';
import { expect, test } from 'vitest';
import { batchRows } from '../../src/report/sheets/summary-queries.js';
import { testDbPerSuite } from '../helpers/db.js';
import { insertFile } from '../reconcile/fixtures.js';

const db = testDbPerSuite();

test('per batch and currency: counts and totals of every line kind, in the range, loaded files only', async () => {
  await insertFile(db.db, 'payunity', '2026-11-20', [
    { tid: 'A', gross: 1000, fee: 30, batch: 'B1' },
    { tid: 'B', kind: 'refund', gross: -200, batch: 'B1' },
    { tid: null, kind: 'fee', gross: 0, fee: 150, batch: 'B1' },
    { tid: 'C', gross: 500, fee: 15, currency: 'USD', batch: 'B1' },
    { tid: 'D', gross: 700, fee: 20, batch: 'B2' },
  ]);
  const superseded = await insertFile(db.db, 'payunity', '2026-11-20', [{ tid: 'X', gross: 999 }]);
  await sql`update settlement_files set status = 'superseded' where id = ${superseded}`.execute(db.db);
  await insertFile(db.db, 'payunity', '2026-11-21', [{ tid: 'E' }]);
  await insertFile(db.db, 'useepay', '2026-11-20', [
    { tid: 'F', currency: 'USD', gross: 300, fee: 9, batch: null },
  ]);

  const rows = async (providers: string[]) =>
    (await db.db.executeQuery(batchRows({ providers, from: '2026-11-20', to: '2026-11-20', db: db.db })))
      .rows;
  const all = await rows(['payunity', 'useepay']);
  expect(
    all.map((r) => ({
      p: r.provider,
      b: r.batch,
      c: r.currency,
      n: r.lines,
      g: r.gross,
      fee: r.fees,
      net: r.net,
      ok: r.gross - r.fees === r.net && r.rejected === 0 && !r.counts_off,
    })),
  ).toEqual([
    { p: 'payunity', b: 'B1', c: 'EUR', n: 3, g: 800, fee: 180, net: 620, ok: true },
    { p: 'payunity', b: 'B2', c: 'EUR', n: 1, g: 700, fee: 20, net: 680, ok: true },
    { p: 'payunity', b: 'B1', c: 'USD', n: 1, g: 500, fee: 15, net: 485, ok: true },
    {
      p: 'useepay',
      b: expect.stringMatching(/^\(no batch id\) useepay_/),
      c: 'USD',
      n: 1,
      g: 300,
      fee: 9,
      net: 291,
      ok: true,
    },
  ]);
  expect(await rows(['useepay'])).toHaveLength(1);
});

test('a batch over several files: its lines summed over all of them, and every file named and counted once', async () => {
  const first = await insertFile(db.db, 'payunity', '2026-11-25', [
    { tid: 'M1', gross: 1000, fee: 30, batch: 'B9' },
    { tid: 'M2', gross: 2000, fee: 60, batch: 'B9' },
  ]);
  const second = await insertFile(db.db, 'payunity', '2026-11-25', [
    { tid: 'M3', gross: 400, fee: 12, batch: 'B9' },
    { tid: 'M4', gross: 100, fee: 3, batch: 'B9' },
    { tid: 'M5', gross: 50, fee: 1, batch: 'B9' },
  ]);
  // The second file lost two lines to rejection, and its counts no longer add up.
  await sql`update settlement_files set rejected_count = 2, line_count = 6 where id = ${second}`.execute(
    db.db,
  );
  const names = await db.db
    .selectFrom('settlement_files')
    .select('file_name')
    .where('id', 'in', [first, second])
    .orderBy('file_name')
    .execute();

  const { rows } = await db.db.executeQuery(
    batchRows({ providers: ['payunity'], from: '2026-11-25', to: '2026-11-25', db: db.db }),
  );
  expect(rows).toEqual([
    {
      provider: 'payunity',
      currency: 'EUR',
      batch: 'B9',
      settlement_date: '2026-11-25',
      files: names.map((n) => n.file_name).join(', '),
      lines: 5,
      gross: 3550,
      fees: 106,
      net: 3444,
      rejected: 2,
      counts_off: true,
    },
  ]);
});
