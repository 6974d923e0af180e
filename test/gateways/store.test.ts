// storeTransactions: counts that tell inserts, real changes and mere sightings apart; run stamps; derived values.
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { BatchBuilder, BulkStore, sampleOf } from '../../src/gateways/bulk-store.js';
import { storeTransactions } from '../../src/gateways/store.js';
import type { GatewayTransaction } from '../../src/gateways/types.js';
import { extraPool, testDbPerSuite } from '../helpers/db.js';
import { gatewayRecord } from './helpers.js';

const db = testDbPerSuite();

const base = gatewayRecord;

async function run(): Promise<number> {
  const r = await db.db
    .insertInto('runs')
    .values({ command: 'pull', tool_version: 'test' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return r.id;
}

describe('storeTransactions', () => {
  it('inserts, then counts a changed status as updated and the rest as unchanged, stamping the run that saw them', async () => {
    const r1 = await run();
    expect(await storeTransactions(db.db, r1, [base('a'), base('b'), base('a')])).toEqual({
      inserted: 2,
      updated: 0,
      unchanged: 0,
    });
    const r2 = await run();
    expect(
      await storeTransactions(db.db, r2, [
        base('a', { status: 'failed', resultCode: '800.100.156' }),
        base('b'),
      ]),
    ).toEqual({ inserted: 0, updated: 1, unchanged: 1 });
    const rows = await db.db
      .selectFrom('gateway_transactions')
      .selectAll()
      .orderBy('transaction_id')
      .execute();
    expect(rows.map((x) => [x.transaction_id, x.status, x.first_seen_run_id, x.last_seen_run_id])).toEqual([
      ['a', 'failed', r1, r2],
      ['b', 'succeeded', r1, r2],
    ]);
    expect(rows[0]!.raw).toEqual({ id: 'a', note: 'émoji ✓ "quoted" \\ back' });
    expect(rows[0]!.transaction_time.toISOString()).toBe('2026-11-20T10:00:00.123Z');
    // Without a run, a sighting does not erase the last run that saw the row.
    expect(await storeTransactions(db.db, null, [base('b')])).toEqual({
      inserted: 0,
      updated: 0,
      unchanged: 1,
    });
    const b = await db.db
      .selectFrom('gateway_transactions')
      .select('last_seen_run_id')
      .where('transaction_id', '=', 'b')
      .executeTakeFirstOrThrow();
    expect(b.last_seen_run_id).toBe(r2);
  });

  it('walks PA -> CP -> RF to the root, and values a CB stored before its payment once the payment arrives', async () => {
    const cp = base('cp1', { gatewayType: 'CP', referencedId: 'pa1', rootPaymentId: 'pa1' });
    const rf = base('rf1', {
      gatewayType: 'RF',
      kind: 'refund',
      referencedId: 'cp1',
      rootPaymentId: 'cp1',
      amountMinor: -300,
    });
    const cb = base('cb1', {
      gatewayType: 'CB',
      kind: 'chargeback',
      status: 'chargeback',
      referencedId: 'db9',
      rootPaymentId: 'db9',
      amountMinor: null,
      currency: null,
    });
    await storeTransactions(db.db, null, [rf, cb]);
    await storeTransactions(db.db, null, [cp]);
    await storeTransactions(db.db, null, [
      base('pa1', { gatewayType: 'PA', kind: 'authorization' }),
      base('db9', { amountMinor: 4321, currency: 'USD' }),
    ]);
    const rows = await db.db
      .selectFrom('gateway_transactions')
      .select(['transaction_id', 'root_payment_id', 'amount_minor', 'currency'])
      .where('transaction_id', 'in', ['cp1', 'rf1', 'cb1'])
      .orderBy('transaction_id')
      .execute();
    expect(rows).toEqual([
      { transaction_id: 'cb1', root_payment_id: 'db9', amount_minor: -4321, currency: 'USD' },
      { transaction_id: 'cp1', root_payment_id: 'pa1', amount_minor: 1000, currency: 'EUR' },
      { transaction_id: 'rf1', root_payment_id: 'pa1', amount_minor: -300, currency: 'EUR' },
    ]);
    // Re-storing the same records keeps the derived values.
    expect(await storeTransactions(db.db, null, [rf, cb, cp])).toEqual({
      inserted: 0,
      updated: 0,
      unchanged: 3,
    });
    const again = await db.db
      .selectFrom('gateway_transactions')
      .select(['root_payment_id', 'amount_minor'])
      .where('transaction_id', 'in', ['rf1', 'cb1'])
      .orderBy('transaction_id')
      .execute();
    expect(again).toEqual([
      { root_payment_id: 'db9', amount_minor: -4321 },
      { root_payment_id: 'pa1', amount_minor: -300 },
    ]);
  });
});

describe('the pull path: a batch built page by page, then COPY and upsert', () => {
  it('keeps the last record of a key seen twice, splits large batches into chunks, and stores every row', async () => {
    const r1 = await run();
    const builder = new BatchBuilder(r1);
    builder.add([base('bb-a'), base('bb-b')]);
    builder.add([base('bb-a', { status: 'failed', resultCode: '800.100.156' })]);
    expect(builder.size).toBe(2);
    const small = builder.take();
    expect(builder.size).toBe(0);
    expect(small.chunks.map((c) => [c.rows, Object.fromEntries(c.ids)])).toEqual([
      [2, { payunity: ['bb-a', 'bb-b'] }],
    ]);
    builder.add(Array.from({ length: 5001 }, (_, i) => base(`bb-n${i}`)));
    const large = builder.take();
    expect(large.chunks.map((c) => c.rows)).toEqual([5000, 1]);
    expect(large.chunks[1]!.ids.get('payunity')).toEqual(['bb-n5000']);

    const bulk = await BulkStore.open(db.db, db.pool, r1);
    try {
      // New records: COPY'd straight into the table.
      expect(await bulk.store(small)).toEqual({ inserted: 2, updated: 0, unchanged: 0 });
      expect(await bulk.store(large)).toEqual({ inserted: 5001, updated: 0, unchanged: 0 });
      // A chunk with records already stored goes through the upsert: one new, one changed, one the same.
      builder.add([
        base('bb-c'),
        base('bb-b', { status: 'failed', resultCode: '800.100.156' }),
        base('bb-n7'),
      ]);
      expect(await bulk.store(builder.take())).toEqual({ inserted: 1, updated: 1, unchanged: 1 });
    } finally {
      bulk.close();
    }

    const stamps = await db.db
      .selectFrom('gateway_transactions')
      .select(['transaction_id', 'first_seen_run_id', 'last_seen_run_id'])
      .where('transaction_id', 'in', ['bb-a', 'bb-c', 'bb-n5000'])
      .orderBy('transaction_id')
      .execute();
    expect(stamps).toEqual([
      { transaction_id: 'bb-a', first_seen_run_id: r1, last_seen_run_id: r1 },
      { transaction_id: 'bb-c', first_seen_run_id: r1, last_seen_run_id: r1 },
      { transaction_id: 'bb-n5000', first_seen_run_id: r1, last_seen_run_id: r1 },
    ]);
    const a = await db.db
      .selectFrom('gateway_transactions')
      .select(['status', 'raw'])
      .where('transaction_id', '=', 'bb-a')
      .executeTakeFirstOrThrow();
    expect(a).toEqual({ status: 'failed', raw: { id: 'bb-a', note: 'émoji ✓ "quoted" \\ back' } });
    const n = await db.db
      .selectFrom('gateway_transactions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('transaction_id', 'like', 'bb-n%')
      .executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(5001);
  });

  it('marks a batch that shares a key with the batch taken before it (an empty take in between changes nothing)', () => {
    const builder = new BatchBuilder(null);
    const take = (ids: string[]) => {
      builder.add(ids.map((id) => base(id)));
      return builder.take().overlapsPrevious;
    };
    expect(take(['ov-a', 'ov-b'])).toBe(false);
    expect(take(['ov-c'])).toBe(false);
    expect(take(['ov-d', 'ov-c'])).toBe(true);
    expect(take([])).toBe(false);
    expect(take(['ov-d'])).toBe(true);
    // Two batches back is written by now: the same id again is no overlap; nor is another gateway type's.
    expect(take(['ov-a', 'ov-x'])).toBe(false);
    builder.add([base('ov-x', { gatewayType: 'RF' })]);
    expect(builder.take().overlapsPrevious).toBe(false);
  });

  it('walks to the root from what each chunk stored: children before parents, and the last record of a key', async () => {
    const builder = new BatchBuilder(null);
    const bulk = await BulkStore.open(db.db, db.pool, null);
    const store = async (records: GatewayTransaction[]) => {
      builder.add(records);
      await bulk.store(builder.take());
    };
    try {
      // A refund of a capture arrives first: its walk stops at the capture, which is not stored yet.
      await store([
        base('wk-rf', { gatewayType: 'RF', kind: 'refund', referencedId: 'wk-cp', rootPaymentId: 'wk-cp' }),
      ]);
      // In one batch: a capture first said to capture wk-px, then (same key, later page) wk-pa. The walk must
      // start from the record kept, and carry the refund stored earlier along. A plain payment (DB) shares the
      // capture's id: only records that reference another are walked, and it stays its own root.
      await store([
        base('wk-cp', { gatewayType: 'CP', referencedId: 'wk-px', rootPaymentId: 'wk-px' }),
        base('wk-cp', { gatewayType: 'DB' }),
        base('wk-rf2', {
          gatewayType: 'RF',
          kind: 'refund',
          referencedId: 'wk-cp2',
          rootPaymentId: 'wk-cp2',
        }),
        base('wk-cp2', { gatewayType: 'CP', referencedId: 'wk-pa', rootPaymentId: 'wk-pa' }),
        base('wk-cp', { gatewayType: 'CP', referencedId: 'wk-pa', rootPaymentId: 'wk-pa' }),
      ]);
      await store([base('wk-pa', { gatewayType: 'PA', kind: 'authorization' })]);
    } finally {
      bulk.close();
    }
    const rows = await db.db
      .selectFrom('gateway_transactions')
      .select(['transaction_id', 'gateway_type', 'referenced_id', 'root_payment_id'])
      .where('transaction_id', 'like', 'wk-%')
      .orderBy('transaction_id')
      .orderBy('gateway_type')
      .execute();
    expect(rows).toEqual([
      { transaction_id: 'wk-cp', gateway_type: 'CP', referenced_id: 'wk-pa', root_payment_id: 'wk-pa' },
      { transaction_id: 'wk-cp', gateway_type: 'DB', referenced_id: null, root_payment_id: 'wk-cp' },
      { transaction_id: 'wk-cp2', gateway_type: 'CP', referenced_id: 'wk-pa', root_payment_id: 'wk-pa' },
      { transaction_id: 'wk-pa', gateway_type: 'PA', referenced_id: null, root_payment_id: 'wk-pa' },
      { transaction_id: 'wk-rf', gateway_type: 'RF', referenced_id: 'wk-cp', root_payment_id: 'wk-pa' },
      { transaction_id: 'wk-rf2', gateway_type: 'RF', referenced_id: 'wk-cp2', root_payment_id: 'wk-pa' },
    ]);
  });
});

describe('BatchBuilder.take', () => {
  it('hands over a batch that the next batch, filled before it is written, leaves intact', async () => {
    const builder = new BatchBuilder(null);
    builder.add([base('ho-a', { status: 'failed' }), base('ho-b')]);
    const first = builder.take();
    // The next page arrives while the first batch waits for its write.
    builder.add([base('ho-c'), base('ho-d', { status: 'failed' })]);
    const second = builder.take();
    const bulk = await BulkStore.open(db.db, db.pool, null);
    try {
      expect(await bulk.store(first)).toEqual({ inserted: 2, updated: 0, unchanged: 0 });
      expect(await bulk.store(second)).toEqual({ inserted: 2, updated: 0, unchanged: 0 });
    } finally {
      bulk.close();
    }
    const rows = await db.db
      .selectFrom('gateway_transactions')
      .select(['transaction_id', 'status'])
      .where('transaction_id', 'like', 'ho-%')
      .orderBy('transaction_id')
      .execute();
    expect(rows).toEqual([
      { transaction_id: 'ho-a', status: 'failed' },
      { transaction_id: 'ho-b', status: 'succeeded' },
      { transaction_id: 'ho-c', status: 'succeeded' },
      { transaction_id: 'ho-d', status: 'failed' },
    ]);
  });
});

describe('BatchBuilder.recycle', () => {
  it("fills a written batch's buffer again, two batches later, and the rows stored from it are the new ones", async () => {
    const builder = new BatchBuilder(null);
    builder.add([base('rc-a')]);
    const first = builder.take();
    builder.add([base('rc-b')]);
    const bulk = await BulkStore.open(db.db, db.pool, null);
    try {
      expect(await bulk.store(first)).toEqual({ inserted: 1, updated: 0, unchanged: 0 });
      builder.recycle(first);
      // rc-b's batch is in a buffer of its own; the one after it goes into first's, which is written.
      const second = builder.take();
      expect(second.buffer).toBeDefined();
      expect(second.buffer).not.toBe(first.buffer);
      builder.add([base('rc-c', { status: 'failed' })]);
      const third = builder.take();
      expect(third.buffer).toBe(first.buffer);
      expect(await bulk.store(second)).toEqual({ inserted: 1, updated: 0, unchanged: 0 });
      expect(await bulk.store(third)).toEqual({ inserted: 1, updated: 0, unchanged: 0 });
    } finally {
      bulk.close();
    }
    const rows = await db.db
      .selectFrom('gateway_transactions')
      .select(['transaction_id', 'status'])
      .where('transaction_id', 'like', 'rc-%')
      .orderBy('transaction_id')
      .execute();
    expect(rows).toEqual([
      { transaction_id: 'rc-a', status: 'succeeded' },
      { transaction_id: 'rc-b', status: 'succeeded' },
      { transaction_id: 'rc-c', status: 'failed' },
    ]);
  });
});

describe('BulkStore straight COPY', () => {
  it('samples a chunk before COPYing it, and falls back to the upsert when an unsampled record is stored', async () => {
    expect(sampleOf([1, 2, 3])).toEqual([1, 2, 3]);
    const ids = Array.from({ length: 41 }, (_, i) => `sc-${i}`);
    const sample = sampleOf(ids);
    expect([sample.length, sample[0], sample.at(-1)]).toEqual([16, 'sc-0', 'sc-40']);
    // sc-1 is stored already and is not in the sample: the chunk is tried as new, and its COPY meets sc-1.
    expect(sample).not.toContain('sc-1');
    const r1 = await run();
    await storeTransactions(db.db, r1, [base('sc-1')]);

    const r2 = await run();
    const builder = new BatchBuilder(r2);
    builder.add(ids.map((id) => base(id)));
    const bulk = await BulkStore.open(db.db, db.pool, r2);
    try {
      expect(await bulk.store(builder.take())).toEqual({ inserted: 40, updated: 0, unchanged: 1 });
    } finally {
      bulk.close();
    }
    const rows = await db.db
      .selectFrom('gateway_transactions')
      .select(['transaction_id', 'first_seen_run_id', 'last_seen_run_id'])
      .where('transaction_id', 'like', 'sc-%')
      .execute();
    expect(rows).toHaveLength(41);
    expect(rows.find((r) => r.transaction_id === 'sc-1')).toEqual({
      transaction_id: 'sc-1',
      first_seen_run_id: r1,
      last_seen_run_id: r2,
    });
    expect(rows.filter((r) => r.first_seen_run_id === r2)).toHaveLength(40);
  });
});

describe('the two ways into gateway_transactions', () => {
  it('store the same values: binary COPY (straight and staged) and the JSON upsert agree to the byte', async () => {
    // Values COPY text had to escape, multi-byte text, no amount, the extreme safe amounts, and times far from
    // today (2400 is past the range where milliseconds times 1000 stay exact as a double).
    const awkward = (id: string): GatewayTransaction[] => [
      base(`${id}-esc`, {
        merchantReference: 'tab\there\nnew\\line\r',
        brand: 'ünïcødé ✓ 𝄞',
        raw: { id, note: 'tab\t nl\n bs\\ quote" ✓ 𝄞', n: 10.5 },
      }),
      base(`${id}-cb`, {
        kind: 'chargeback',
        gatewayType: 'CB',
        amountMinor: null,
        currency: null,
        brand: null,
        resultCode: null,
        rootPaymentId: null,
        referencedId: `${id}-esc`,
        merchantReference: null,
      }),
      base(`${id}-old`, {
        transactionTime: new Date('1970-01-01T00:00:00.001Z'),
        amountMinor: -9007199254740991,
      }),
      base(`${id}-new`, {
        transactionTime: new Date('2999-12-31T23:59:59.999Z'),
        amountMinor: 9007199254740991,
      }),
      base(`${id}-big`, { transactionTime: new Date('2400-02-29T12:00:00.000Z') }),
    ];
    const r = await run();
    await storeTransactions(db.db, r, awkward('vj'));
    const bulk = await BulkStore.open(db.db, db.pool, r);
    try {
      const straight = new BatchBuilder(r);
      straight.add(awkward('vs'));
      expect(await bulk.store(straight.take())).toEqual({ inserted: 5, updated: 0, unchanged: 0 });
      // Stored already, so through the staging table and the upsert: a re-pull of the same records changes nothing.
      const staged = new BatchBuilder(r);
      staged.add(awkward('vj'));
      expect(await bulk.store(staged.take())).toEqual({ inserted: 0, updated: 0, unchanged: 5 });
    } finally {
      bulk.close();
    }
    const rows = await sql<Record<string, unknown>>`
      select transaction_id, substr(transaction_id, 4) as suffix, gateway_type, kind, status, root_payment_id,
        substr(referenced_id, 4) as referenced, merchant_reference, amount_minor::text as amount, currency,
        transaction_time::text as time, brand, result_code, raw::text as raw, content_hash
      from gateway_transactions where transaction_id like 'vj-%' or transaction_id like 'vs-%'
      order by transaction_id
    `.execute(db.db);
    // The same records under the two prefixes; their hashes differ only because their ids do (the unchanged
    // re-pull above shows that the JSON path and the COPY path hash a record alike).
    const byPath = (prefix: string) =>
      rows.rows
        .filter((x) => String(x.transaction_id).startsWith(`${prefix}-`))
        .map(({ transaction_id: _id, content_hash: _hash, ...x }) =>
          Object.fromEntries(
            Object.entries(x).map(([k, v]) => [k, typeof v === 'string' ? v.replaceAll(prefix, '..') : v]),
          ),
        );
    const json = byPath('vj');
    expect(json).toHaveLength(5);
    expect(byPath('vs')).toEqual(json);
    const esc = json.find((x) => x.suffix === 'esc')!;
    expect([esc.merchant_reference, esc.brand]).toEqual(['tab\there\nnew\\line\r', 'ünïcødé ✓ 𝄞']);
    expect(json.map((x) => [x.suffix, x.amount, x.time])).toEqual([
      ['big', '1000', '2400-02-29 12:00:00+00'],
      ['cb', '-1000', '2026-11-20 10:00:00.123+00'],
      ['esc', '1000', '2026-11-20 10:00:00.123+00'],
      ['new', '9007199254740991', '2999-12-31 23:59:59.999+00'],
      ['old', '-9007199254740991', '1970-01-01 00:00:00.001+00'],
    ]);
  });
});

describe("a record's raw JSON", () => {
  it('is stored as the gateway wrote it, on every path: JSON upsert, straight COPY and staged upsert', async () => {
    const text = '{ "id" : "X",\n  "amount" : "10.50", "rate" : 1.50, "note" : "caf\\u00e9 \\"q\\"" }';
    const sent = (id: string) => base(id, { raw: JSON.parse(text), rawText: text });
    const r = await run();
    expect(await storeTransactions(db.db, r, [sent('rt-json')])).toEqual({
      inserted: 1,
      updated: 0,
      unchanged: 0,
    });
    const bulk = await BulkStore.open(db.db, db.pool, r);
    try {
      const straight = new BatchBuilder(r);
      straight.add([sent('rt-copy')]);
      expect(await bulk.store(straight.take())).toEqual({ inserted: 1, updated: 0, unchanged: 0 });
      // The same text again is no change, whichever path stored it first.
      const staged = new BatchBuilder(r);
      staged.add([sent('rt-json'), sent('rt-copy')]);
      expect(await bulk.store(staged.take())).toEqual({ inserted: 0, updated: 0, unchanged: 2 });
    } finally {
      bulk.close();
    }
    // The same values spelled otherwise, or with a field payrecon does not read (the test platform puts a random
    // one in `result`), seen by the next run: no change to count, but the run stores what the gateway now says.
    const updatedAt = async () =>
      (
        await sql<{ id: string; seen: number; at: Date }>`
          select transaction_id as id, last_seen_run_id::int as seen, updated_at as at
          from gateway_transactions where transaction_id like 'rt-%' order by transaction_id
        `.execute(db.db)
      ).rows;
    const before = await updatedAt();
    const next = await run();
    const again = await BulkStore.open(db.db, db.pool, next);
    try {
      const respelled = new BatchBuilder(next);
      respelled.add([
        base('rt-copy', { raw: JSON.parse(text) }),
        base('rt-json', { raw: { ...(JSON.parse(text) as object), result: { random7f3a: 'x9' } } }),
      ]);
      expect(await again.store(respelled.take())).toEqual({ inserted: 0, updated: 0, unchanged: 2 });
    } finally {
      again.close();
    }
    const rows = await sql<{ id: string; raw: string }>`
      select transaction_id as id, raw::text as raw from gateway_transactions
      where transaction_id like 'rt-%' order by transaction_id
    `.execute(db.db);
    expect(rows.rows).toEqual([
      { id: 'rt-copy', raw: JSON.stringify(JSON.parse(text)) },
      {
        id: 'rt-json',
        raw: JSON.stringify({ ...(JSON.parse(text) as object), result: { random7f3a: 'x9' } }),
      },
    ]);
    // Seen by the new run, yet not changed: updated_at still says when what payrecon reads last changed.
    expect(await updatedAt()).toEqual(before.map((b) => ({ ...b, seen: next })));
  });
});

describe('BulkStore.close', () => {
  it('ends its connection instead of handing it back to the pool (it used a temporary table)', async () => {
    const pool = extraPool(db, 1);
    try {
      const bulk = await BulkStore.open(db.db, pool, null);
      expect(pool.totalCount).toBe(1);
      bulk.close();
      // A pooled session that used a temporary table could no longer raise temp_buffers for matching.
      expect([pool.totalCount, pool.idleCount]).toEqual([0, 0]);
      const next = await pool.connect();
      try {
        await next.query('begin');
        await next.query("set local temp_buffers = '600MB'");
        const shown = await next.query<{ temp_buffers: string }>('show temp_buffers');
        expect(shown.rows[0]?.temp_buffers).toBe('600MB');
        await next.query('commit');
      } finally {
        next.release();
      }
    } finally {
      await pool.end();
    }
  });
});
