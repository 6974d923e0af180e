// A provider's pull writes consecutive batches on two connections at once: what each batch derives (roots,
// chargeback values) and a key stored twice come out as when the batches are written one after the other.
import pg from 'pg';
import { expect, it } from 'vitest';
import { pullGateway, writeLanes } from '../../src/gateways/stage.js';
import type { GatewayClient, GatewayTransaction, PullWindow } from '../../src/gateways/types.js';
import { DEFAULT_CREDENTIALS } from '../../src/sandbox/data.js';
import { testDbPerTest } from '../helpers/db.js';
import { gatewayConfig, gatewayRecord, stageContext } from './helpers.js';

const db = testDbPerTest();
const DAY = '2026-11-20';
/** The pull stores a batch when it holds this many records (stage.ts, STORE_BATCH). */
const BATCH = 5000;

const record = gatewayRecord;
const linked = (
  id: string,
  type: string,
  kind: GatewayTransaction['kind'],
  ref: string,
  amount: number | null,
) => record(id, { gatewayType: type, kind, referencedId: ref, rootPaymentId: ref, amountMinor: amount });

/** Four batches of plain payments, with the records below put in the place of some of them. */
function records(): GatewayTransaction[] {
  const out = Array.from({ length: 3 * BATCH + 1234 }, (_, i) => record(`plain-${i}`));
  const at = (batch: number, offset: number, r: GatewayTransaction) => (out[batch * BATCH + offset] = r);
  // A refund of a capture of an authorisation, child first: each link in the next batch, on the other lane.
  at(0, 100, linked('rf-1', 'RF', 'refund', 'cp-1', -300));
  at(1, 100, linked('cp-1', 'CP', 'payment', 'pa-1', 1000));
  at(2, 100, record('pa-1', { gatewayType: 'PA', kind: 'authorization' }));
  // The same chain, parent first.
  at(0, 200, record('pa-2', { gatewayType: 'PA', kind: 'authorization' }));
  at(1, 200, linked('cp-2', 'CP', 'payment', 'pa-2', 1000));
  at(2, 200, linked('rf-2', 'RF', 'refund', 'cp-2', -400));
  // Chargebacks without an amount: before their payment, and after it.
  at(1, 300, linked('cb-1', 'CB', 'chargeback', 'db-1', null));
  at(2, 300, record('db-1', { amountMinor: 2500 }));
  at(1, 400, record('db-2', { amountMinor: 700 }));
  at(2, 400, linked('cb-2', 'CB', 'chargeback', 'db-2', null));
  // Keys in two consecutive batches, at both ends and between: the later record wins.
  for (const [first, second, id] of [
    [BATCH - 1, 0, 'dup-1'],
    [4000, 1000, 'dup-2'],
    [2500, 2500, 'dup-3'],
  ] as const) {
    at(0, first, record(id, { status: 'pending', resultCode: '000.200.000' }));
    at(1, second, record(id));
  }
  return out;
}

const client = (list: GatewayTransaction[]): GatewayClient => ({
  provider: 'payunity',
  async *pull(window: PullWindow) {
    for (let i = 0; i < list.length; i += 100) {
      // Pages at once, in memory: batches are built faster than they are written, so consecutive ones overlap.
      await Promise.resolve();
      yield { endpoint: 'v3/query', window, records: list.slice(i, i + 100) };
    }
  },
  lookup: () => Promise.reject(new Error('not used')),
  createRefund: () => Promise.reject(new Error('not used')),
  findRefund: () => Promise.reject(new Error('not used')),
});

it('writes on two lanes only when the pool holds them, a connection for window records and the run lock', async () => {
  const lanes = async (max: number) => {
    const pool = new pg.Pool({ max });
    try {
      return writeLanes(pool);
    } finally {
      await pool.end();
    }
  };
  expect(await lanes(5)).toBe(1);
  expect(await lanes(6)).toBe(2);
});

// A key in two batches written at once made them wait for each other for ever: a short timeout fails it fast.
it(
  'two lanes store consecutive batches as one lane would: roots, chargeback values, a key twice',
  {
    timeout: 20_000,
  },
  async () => {
    expect(writeLanes(db.pool)).toBe(2);
    // The client below stands in for the gateway: nothing is served at these addresses.
    const nowhere = 'http://127.0.0.1:9';
    const config = gatewayConfig({ payunityUrl: nowhere, useepayUrl: nowhere }, DEFAULT_CREDENTIALS, db.url);
    const list = records();
    const summary = await pullGateway(
      stageContext(db, config),
      'payunity',
      { from: DAY, to: DAY },
      client(list),
    );
    expect(summary).toMatchObject({ records: list.length, inserted: list.length - 3, updated: 3 });

    const rows = await db.db
      .selectFrom('gateway_transactions')
      .select(['transaction_id', 'root_payment_id', 'amount_minor', 'status'])
      .where('transaction_id', 'in', [
        'rf-1',
        'cp-1',
        'pa-1',
        'rf-2',
        'cp-2',
        'pa-2',
        'cb-1',
        'cb-2',
        'dup-1',
        'dup-2',
        'dup-3',
      ])
      .orderBy('transaction_id')
      .execute();
    expect(rows).toEqual([
      { transaction_id: 'cb-1', root_payment_id: 'db-1', amount_minor: -2500, status: 'succeeded' },
      { transaction_id: 'cb-2', root_payment_id: 'db-2', amount_minor: -700, status: 'succeeded' },
      { transaction_id: 'cp-1', root_payment_id: 'pa-1', amount_minor: 1000, status: 'succeeded' },
      { transaction_id: 'cp-2', root_payment_id: 'pa-2', amount_minor: 1000, status: 'succeeded' },
      { transaction_id: 'dup-1', root_payment_id: 'dup-1', amount_minor: 1000, status: 'succeeded' },
      { transaction_id: 'dup-2', root_payment_id: 'dup-2', amount_minor: 1000, status: 'succeeded' },
      { transaction_id: 'dup-3', root_payment_id: 'dup-3', amount_minor: 1000, status: 'succeeded' },
      { transaction_id: 'pa-1', root_payment_id: 'pa-1', amount_minor: 1000, status: 'succeeded' },
      { transaction_id: 'pa-2', root_payment_id: 'pa-2', amount_minor: 1000, status: 'succeeded' },
      { transaction_id: 'rf-1', root_payment_id: 'pa-1', amount_minor: -300, status: 'succeeded' },
      { transaction_id: 'rf-2', root_payment_id: 'pa-2', amount_minor: -400, status: 'succeeded' },
    ]);
    const count = await db.db
      .selectFrom('gateway_transactions')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(list.length - 3);
    const windows = await db.db.selectFrom('pull_windows').select(['record_count']).execute();
    expect(windows).toEqual([{ record_count: list.length }]);
  },
);
