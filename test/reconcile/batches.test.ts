import { sql } from 'kysely';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { settlementBatchChecks } from '../../src/reconcile/index.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { insertFile, selection } from './fixtures.js';

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb();
});
afterAll(async () => {
  await db.drop();
});

test('per batch and currency: counts and totals of every line kind, in the range, loaded files only', async () => {
  const f1 = await insertFile(db.db, 'payunity', '2026-11-20', [
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

  const rows = await settlementBatchChecks(db.db, selection('2026-11-20', '2026-11-20'));
  expect(
    rows.map((r) => ({
      p: r.provider,
      f: r.fileId,
      b: r.batchId,
      c: r.currency,
      n: r.lineCount,
      g: r.grossMinor,
      fee: r.feeMinor,
      net: r.netMinor,
      ok: r.balanced,
    })),
  ).toEqual([
    { p: 'payunity', f: f1, b: 'B1', c: 'EUR', n: 3, g: 800, fee: 180, net: 620, ok: true },
    { p: 'payunity', f: f1, b: 'B1', c: 'USD', n: 1, g: 500, fee: 15, net: 485, ok: true },
    { p: 'payunity', f: f1, b: 'B2', c: 'EUR', n: 1, g: 700, fee: 20, net: 680, ok: true },
    { p: 'useepay', f: expect.any(Number), b: null, c: 'USD', n: 1, g: 300, fee: 9, net: 291, ok: true },
  ]);
  expect(await settlementBatchChecks(db.db, selection('2026-11-20', '2026-11-20', ['useepay']))).toHaveLength(
    1,
  );
});
