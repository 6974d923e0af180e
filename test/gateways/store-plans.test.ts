// The pull's per-chunk statements keep their plans when the table's statistics are stale: a provider's first pull
// into a table that was last analysed before it had any of that provider's records. The planner then takes the
// provider for one row; plans that scanned all of a provider's records per chunk made such a pull quadratic.
// Real planner, real statistics: each scan of gateway_transactions must be a lookup, never a provider scan.
import { beforeAll, describe, expect, it } from 'vitest';
import { anyStored } from '../../src/gateways/bulk-store.js';
import { resolveRoots, valueChargebacks } from '../../src/gateways/derive.js';
import { testDbPerSuite } from '../helpers/db.js';

const db = testDbPerSuite();
beforeAll(async () => {
  await db.pool.query(`alter table gateway_transactions set (autovacuum_enabled = off)`);
  const insert = (provider: string, kind: string, from: number, to: number, amount: string) =>
    db.pool.query(
      `insert into gateway_transactions (provider, transaction_id, gateway_type, kind, status, referenced_id,
         amount_minor, currency, transaction_time, raw, content_hash)
       select $1, $1 || '-' || $2 || '-' || i, $2, $2, 'succeeded',
         case when $2 = 'chargeback' then $1 || '-payment-' || i end, ${amount}, 'EUR', now(), '{}', 'h'
       from generate_series($3::int, $4::int) i`,
      [provider, kind, from, to],
    );
  // Statistics that know one provider only, then the other provider's records, as its first pull writes them.
  await insert('payunity', 'payment', 1, 20000, '1000');
  await db.pool.query('analyze gateway_transactions');
  await insert('useepay', 'payment', 1, 20000, '1000');
  await insert('useepay', 'chargeback', 1, 50, 'null');
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

/**
 * Asserts that every scan in `found` is a lookup: by a record's own id, by the index `partial` when given, or (when
 * `tids`) by the row ids that such lookups returned.
 */
function expectLookups(found: PlanNode[], allow: { partial?: string; tids?: boolean } = {}): void {
  expect(found.length).toBeGreaterThan(0);
  for (const s of found) {
    if (allow.tids && s['Node Type'] === 'Tid Scan') continue;
    expect(s['Node Type']).toMatch(/^Index (Only )?Scan$/);
    if (allow.partial !== undefined && s['Index Name'] === allow.partial) continue;
    expect(s['Index Name']).toBe('gateway_transactions_pkey');
    expect(s['Index Cond']).toMatch(/transaction_id = /);
  }
}

/** Every scan of gateway_transactions in the plan of `query` (the table an UPDATE writes is not a scan). */
async function scans(query: { sql: string; parameters: readonly unknown[] }): Promise<PlanNode[]> {
  const { rows } = await db.pool.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
    `explain (format json) ${query.sql}`,
    query.parameters as unknown[],
  );
  const out: PlanNode[] = [];
  const walk = (n: PlanNode) => {
    if (n['Relation Name'] === 'gateway_transactions' && n['Node Type'] !== 'ModifyTable') out.push(n);
    n.Plans?.forEach(walk);
  };
  walk(rows[0]!['QUERY PLAN'][0]!.Plan);
  return out;
}

describe('derived values under stale statistics', () => {
  it('values chargebacks through the unvalued-chargeback index and primary-key lookups of their payments', async () => {
    const ids = Array.from({ length: 5000 }, (_, i) => `useepay-payment-${i + 1}`);
    const found = await scans(valueChargebacks('useepay', ids).compile(db.db));
    expectLookups(found, { partial: 'gateway_transactions_unvalued_cb_idx' });
    expect(found.some((s) => s['Index Name'] === 'gateway_transactions_unvalued_cb_idx')).toBe(true);

    // And the statement does its work: every chargeback of the batch's payments takes the payment's amount.
    await valueChargebacks('useepay', ids).execute(db.db);
    const { rows } = await db.pool.query<{ n: number; sum: string }>(
      `select count(*)::int as n, sum(amount_minor)::text as sum from gateway_transactions
       where provider = 'useepay' and kind = 'chargeback'`,
    );
    expect(rows[0]).toEqual({ n: 50, sum: String(50 * -1000) });
  });

  it('walks to the root through the root index, primary-key lookups and the rows they found', async () => {
    const linked = {
      ids: Array.from({ length: 50 }, (_, i) => `useepay-chargeback-${i + 1}`),
      types: Array.from({ length: 50 }, () => 'chargeback'),
      refs: Array.from({ length: 50 }, (_, i) => `useepay-payment-${i + 1}`),
    };
    const found = await scans(resolveRoots('useepay', linked).compile(db.db));
    // The update finds its rows by the ctids the primary-key lookups returned.
    expectLookups(found, { partial: 'gateway_transactions_root_idx', tids: true });
  });

  it('asks whether a chunk is stored already by a primary-key lookup per sampled id', async () => {
    const ids = Array.from({ length: 16 }, (_, i) => `useepay-new-${i}`);
    expectLookups(await scans(anyStored('useepay', ids).compile(db.db)));
    const { rows } = await anyStored('useepay', [...ids, 'useepay-payment-7']).execute(db.db);
    expect(rows).toEqual([{ found: true }]);
    expect((await anyStored('useepay', ids).execute(db.db)).rows).toEqual([{ found: false }]);
  });
});
