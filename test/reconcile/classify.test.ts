// Every discrepancy type, positively and negatively, both match keys and the precedence of docs/matching.md.
import { expect, test } from 'vitest';
import { discrepancyId, matchRange } from '../../src/reconcile/index.js';
import { testDbPerTest } from '../helpers/db.js';
import {
  insertFile,
  insertGateway,
  newRun,
  nov20,
  openDiscrepancies,
  openKeys,
  PAST_DEADLINES,
  selection,
  stageContext,
  testConfig,
} from './fixtures.js';

const db = testDbPerTest();

const T = nov20;
const NOW = PAST_DEADLINES;

test('matches by both keys and classifies every type, positives and negatives', async () => {
  await insertGateway(db.db, [
    { id: 'OK1', time: T(8) },
    { id: 'AMT', time: T(8) },
    { id: 'REF', time: T(8), mref: 'ORD-REF' },
    { id: 'CUR', time: T(8) },
    { id: 'FAIL', time: T(8), status: 'failed', amount: 500 },
    { id: 'RVD', time: T(8) },
    { id: 'RV1', type: 'RV', kind: 'reversal', time: T(9), ref: 'RVD', root: 'RVD', amount: 1000 },
    { id: 'FAIL2', time: T(8), status: 'failed' }, // failed, never settled: nothing
    { id: 'PEND', time: T(8), status: 'pending' }, // pending, settled: nothing
    { id: 'PEND2', time: T(8), status: 'pending' }, // pending, unsettled: nothing
    { id: 'MISS', time: T(8) },
    { id: 'R1', type: 'RF', kind: 'refund', time: T(10), root: 'OK1', ref: 'OK1', amount: -300 },
    { id: 'R2', type: 'RF', kind: 'refund', time: T(10), root: 'OK1', ref: 'OK1', amount: -300 },
    { id: 'DUPS', time: T(8) },
    { id: 'D1', time: T(8), mref: 'ORD-DUP' },
    { id: 'D2', time: T(9), mref: 'ORD-DUP' },
    { id: 'D3', time: T(10), mref: 'ORD-DUP', amount: 999 },
    { id: 'D4', time: T(11), mref: 'ORD-DUP', status: 'failed' },
    { id: 'Q1', time: T(8) },
    { id: 'Q1R1', type: 'RF', kind: 'refund', time: T(9), root: 'Q1', ref: 'Q1', amount: -600 },
    { id: 'Q1R2', type: 'RF', kind: 'refund', time: T(10), root: 'Q1', ref: 'Q1', amount: -500 },
    { id: 'Q2', time: T(8) },
    { id: 'Q2R', type: 'RF', kind: 'refund', time: T(9), root: 'Q2', ref: 'Q2', amount: -600 },
    {
      id: 'Q2CB',
      type: 'CB',
      kind: 'chargeback',
      status: 'chargeback',
      time: T(10),
      root: 'Q2',
      ref: 'Q2',
      amount: null,
      currency: null,
    },
    { id: 'Q3', time: T(8) },
    {
      id: 'Q3CB',
      type: 'CB',
      kind: 'chargeback',
      status: 'chargeback',
      time: T(9),
      root: 'Q3',
      ref: 'Q3',
      amount: -1000,
    },
    { id: 'Q3CR', type: 'CR', kind: 'chargeback_reversal', time: T(10), root: 'Q3', ref: 'Q3', amount: 1000 },
    { id: 'Q3R', type: 'RF', kind: 'refund', time: T(11), root: 'Q3', ref: 'Q3', amount: -400 },
    // UseePay: an intent settled with its captured amount, and one refund.
    { provider: 'useepay', id: '9001', type: 'payment_intent', time: T(8), amount: 2500, currency: 'USD' },
    {
      provider: 'useepay',
      id: 're_1',
      type: 'refund',
      kind: 'refund',
      time: T(9),
      root: '9001',
      ref: '9001',
      amount: -500,
      currency: 'USD',
    },
    {
      provider: 'useepay',
      id: '9002',
      type: 'payment_intent',
      status: 'cancelled',
      time: T(8),
      amount: 700,
      currency: 'USD',
    },
  ]);
  await insertFile(db.db, 'payunity', '2026-11-20', [
    { tid: 'OK1' },
    { tid: 'AMT', gross: 1100 },
    { tid: null, mref: 'ORD-REF' },
    { tid: null, mref: 'ORD-NOWHERE', gross: 700 },
    { tid: 'UNKNOWN', gross: 800 },
    { tid: 'CUR', currency: 'USD', gross: 1300 },
    { tid: 'FAIL', gross: 450 },
    { tid: 'RVD' },
    { tid: 'PEND' },
    { tid: 'R1', kind: 'refund', gross: -300 },
    { tid: 'R2', kind: 'refund', gross: -250 },
    { tid: 'DUPS' },
    { tid: 'D1' },
    { tid: 'D2' },
    { tid: 'D3', gross: 999 },
    { tid: 'D4' },
    { tid: 'Q1' },
    { tid: 'Q2' },
    { tid: 'Q3' },
    { tid: 'Q1R1', kind: 'refund', gross: -600 },
    { tid: 'Q1R2', kind: 'refund', gross: -500 },
    { tid: 'Q2R', kind: 'refund', gross: -600 },
    { tid: 'Q2CB', kind: 'chargeback', gross: -1000 },
    { tid: 'Q3CB', kind: 'chargeback', gross: -1000 },
    { tid: 'Q3CR', kind: 'chargeback_reversal', gross: 1000 },
    { tid: 'Q3R', kind: 'refund', gross: -400 },
  ]);
  await insertFile(db.db, 'payunity', '2026-11-20', [{ tid: 'DUPS' }]);
  await insertFile(db.db, 'useepay', '2026-11-20', [
    { tid: '9001', currency: 'USD', gross: 2500 },
    { tid: 're_1', kind: 'refund', currency: 'USD', gross: -500 },
    { tid: '9002', currency: 'USD', gross: 700 },
  ]);

  const looked: [string, string[]][] = [];
  const run = await newRun(db.db);
  const s = await matchRange(
    stageContext(db, testConfig(), NOW, run),
    selection('2026-11-20', '2026-11-20'),
    {
      lookup: (provider, ids) => {
        looked.push([provider, ids]);
        return Promise.resolve();
      },
    },
  );
  expect(looked).toEqual([['payunity', ['UNKNOWN']]]);

  expect(await openKeys(db.db)).toEqual([
    'amount_mismatch:AMT',
    'amount_mismatch:R2',
    'currency_mismatch:CUR',
    'duplicate_charge:D2',
    'duplicate_settlement:DUPS',
    'missing_in_gateway:UNKNOWN',
    'missing_in_gateway:ref:ORD-NOWHERE',
    'missing_in_settlement:MISS',
    'refund_exceeds_payment:Q1',
    'refund_exceeds_payment:Q2',
    'status_mismatch:9002',
    'status_mismatch:D4', // failed, yet settled: a status problem, and no duplicate charge
    'status_mismatch:FAIL',
    'status_mismatch:RVD',
  ]);
  expect(s.matchedByKey).toEqual({ transaction_id: 27, merchant_reference: 1 });
  expect(s.matched).toBe(28);
  expect(s.discrepancies).toMatchObject({
    amount_mismatch: 2,
    status_mismatch: 4,
    missing_in_gateway: 2,
    fee_mismatch: 0,
  });
  expect(s.opened).toBe(14);

  const byKey = new Map((await openDiscrepancies(db.db)).map((d) => [`${d.type}:${d.transaction_id}`, d]));
  const amt = byKey.get('amount_mismatch:AMT')!;
  expect(amt).toMatchObject({
    gateway_amount_minor: 1000,
    settled_amount_minor: 1100,
    difference_minor: 100,
    refundable_minor: 100,
    currency: 'EUR',
  });
  expect(amt.id).toBe(discrepancyId('payunity', 'amount_mismatch', 'AMT'));
  // A refund settled short is not a refund candidate.
  expect(byKey.get('amount_mismatch:R2')).toMatchObject({
    gateway_amount_minor: -300,
    settled_amount_minor: -250,
    refundable_minor: null,
    payment_id: 'OK1',
  });
  // Currency wins over amount; status wins over amount.
  // The row's currency is the gateway's: the USD gross is in the detail, not an amount or a difference in EUR.
  expect(byKey.get('currency_mismatch:CUR')).toMatchObject({
    currency: 'EUR',
    gateway_amount_minor: 1000,
    settled_amount_minor: null,
    difference_minor: null,
    refundable_minor: null,
    detail: expect.stringMatching(
      /^payment line \d+ of payunity_2026-11-20_\d+\.csv: gateway currency EUR, settled 13\.00 USD$/,
    ),
  });
  expect(byKey.get('status_mismatch:FAIL')).toMatchObject({
    gateway_amount_minor: 500,
    settled_amount_minor: 450,
    refundable_minor: 450,
  });
  expect(byKey.get('status_mismatch:RVD')!.detail).toContain('reversed');
  expect(byKey.get('status_mismatch:9002')).toMatchObject({
    provider: 'useepay',
    refundable_minor: 700,
    currency: 'USD',
  });
  expect(byKey.get('duplicate_settlement:DUPS')).toMatchObject({
    gateway_amount_minor: 1000,
    settled_amount_minor: 2000,
    refundable_minor: null,
    // Every line of it is named, so finance can find both.
    detail: expect.stringMatching(
      /^one gateway transaction on 2 settlement lines: payment line \d+ of payunity_2026-11-20_\d+\.csv, payment line 2 of payunity_2026-11-20_\d+\.csv$/,
    ),
  });
  expect(byKey.get('duplicate_charge:D2')).toMatchObject({
    gateway_amount_minor: 1000,
    settled_amount_minor: 1000,
    refundable_minor: 1000,
  });
  expect(byKey.get('duplicate_charge:D2')!.detail).toMatch(
    /^payment line \d+ of payunity_2026-11-20_\d+\.csv: same merchant reference, amount and currency as payment D1$/,
  );
  expect(byKey.get('missing_in_settlement:MISS')).toMatchObject({
    gateway_amount_minor: 1000,
    settled_amount_minor: null,
    difference_minor: -1000,
  });
  expect(byKey.get('missing_in_gateway:UNKNOWN')).toMatchObject({
    gateway_amount_minor: null,
    settled_amount_minor: 800,
    difference_minor: 800,
  });
  // 600 + 500 refunded on 1000; 600 + a chargeback valued at its payment's 1000 on 1000.
  expect(byKey.get('refund_exceeds_payment:Q1')).toMatchObject({
    gateway_amount_minor: 1000,
    settled_amount_minor: -1100,
    difference_minor: -100, // the excess
    payment_id: 'Q1',
  });
  expect(byKey.get('refund_exceeds_payment:Q2')).toMatchObject({
    gateway_amount_minor: 1000,
    settled_amount_minor: -1600,
    difference_minor: -600,
  });
  // Details name the file, and give money in major units with the currency.
  expect(byKey.get('missing_in_gateway:UNKNOWN')!.detail).toBe(
    'payment line 6 of payunity_2026-11-20_1.csv: unknown at the gateway',
  );
  expect(byKey.get('refund_exceeds_payment:Q1')!.detail).toBe(
    'refunds 11.00 EUR and chargebacks 0.00 EUR (less reversals 0.00 EUR) exceed the captured 10.00 EUR',
  );
  expect(byKey.get('refund_exceeds_payment:Q2')!.detail).toBe(
    'refunds 6.00 EUR and chargebacks 10.00 EUR (less reversals 0.00 EUR) exceed the captured 10.00 EUR',
  );

  // The merchant-reference match is recorded with its key.
  const m = await db.db
    .selectFrom('matches')
    .select(['transaction_id', 'match_key'])
    .where('transaction_id', '=', 'REF')
    .execute();
  expect(m).toEqual([{ transaction_id: 'REF', match_key: 'merchant_reference' }]);
  expect(
    await db.db
      .selectFrom('matches')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst(),
  ).toEqual({ n: 28 });
});

test('an unknown id the gateway knows by direct lookup is matched, not missing', async () => {
  await insertFile(db.db, 'payunity', '2026-11-20', [{ tid: 'OLD-RF', kind: 'refund', gross: -300 }]);
  const run = await newRun(db.db);
  const s = await matchRange(
    stageContext(db, testConfig(), NOW, run),
    selection('2026-11-20', '2026-11-20'),
    {
      // The refund of a sale from last month: stored by the lookup, outside any window the run pulled.
      lookup: async (provider, ids) => {
        expect([provider, ids]).toEqual(['payunity', ['OLD-RF']]);
        await insertGateway(db.db, [
          { id: 'OLD', time: '2026-10-15T10:00:00Z' },
          {
            id: 'OLD-RF',
            type: 'RF',
            kind: 'refund',
            time: '2026-11-19T10:00:00Z',
            root: 'OLD',
            ref: 'OLD',
            amount: -300,
          },
        ]);
      },
    },
  );
  expect(s.lookedUp).toEqual({ payunity: 1 });
  expect(s.matched).toBe(1);
  expect(await openKeys(db.db)).toEqual([]);
});

test('merchant reference: ties go to the earliest transaction, only inside the lag window', async () => {
  await insertGateway(db.db, [
    { id: 'M1', time: T(10), mref: 'ORD-M' },
    { id: 'M2', time: T(9), mref: 'ORD-M' },
    { id: 'OLD', time: '2026-11-10T10:00:00Z', mref: 'ORD-OLD' }, // deadline 11-13: too old for a line of 11-20
    {
      id: 'RF1',
      type: 'RF',
      kind: 'refund',
      time: T(12),
      root: 'M2',
      ref: 'M2',
      mref: 'ORD-M',
      amount: -1000,
    },
  ]);
  await insertFile(db.db, 'payunity', '2026-11-20', [
    { tid: null, mref: 'ORD-M' },
    { tid: null, mref: 'ORD-OLD' },
    { tid: null, mref: 'ORD-M', kind: 'refund', gross: -1000 },
  ]);
  await insertFile(db.db, 'payunity', '2026-11-23', [{ tid: null, mref: 'ORD-M' }]);
  const run = await newRun(db.db);
  const s = await matchRange(stageContext(db, testConfig(), NOW, run), selection('2026-11-20', '2026-11-23'));
  expect(s.matchedByKey).toEqual({ transaction_id: 0, merchant_reference: 3 });
  const rows = await db.db
    .selectFrom('matches')
    .innerJoin('settlement_lines as l', 'l.id', 'matches.settlement_line_id')
    .select(['l.settlement_date', 'l.kind', 'matches.transaction_id'])
    .orderBy('l.settlement_date')
    .orderBy('l.kind')
    .execute();
  expect(rows).toEqual([
    { settlement_date: '2026-11-20', kind: 'payment', transaction_id: 'M2' },
    { settlement_date: '2026-11-20', kind: 'refund', transaction_id: 'RF1' },
    { settlement_date: '2026-11-23', kind: 'payment', transaction_id: 'M1' },
  ]);
  // Two settled payments of one reference and amount: the later is a duplicate charge. OLD is settled by no line.
  expect(await openKeys(db.db)).toEqual(['duplicate_charge:M1', 'missing_in_gateway:ref:ORD-OLD']);
});

test('fee schedule: percent + fixed with tolerance, a brand rule wins, refunds are not checked', async () => {
  const config = testConfig({
    payunity: {
      fees: [
        { currency: 'EUR', percent: '2.5', fixed: '0.10', tolerance: '0.01' },
        { currency: 'EUR', brand: 'VISA', percent: '1.9', fixed: '0.10' },
      ],
    },
  });
  await insertGateway(db.db, [
    { id: 'F1', time: T(8), amount: 1000 },
    { id: 'F2', time: T(8), amount: 1000 },
    { id: 'F3', time: T(8), amount: 1234 },
    { id: 'F4', time: T(8), amount: 1234 },
    { id: 'F5', time: T(8), amount: 1000, brand: 'VISA' },
    { id: 'F6', time: T(8), amount: 1000, brand: 'VISA' },
    { id: 'F7', time: T(8), amount: 1000, currency: 'USD' },
    { id: 'F1R', type: 'RF', kind: 'refund', time: T(9), root: 'F1', ref: 'F1', amount: -100 },
  ]);
  await insertFile(db.db, 'payunity', '2026-11-20', [
    { tid: 'F1', fee: 35 }, // 25 + 10
    { tid: 'F2', fee: 37 }, // off by 2 > 1
    { tid: 'F3', gross: 1234, fee: 42 }, // 30.85 -> 31, + 10 = 41; off by 1 = tolerance
    { tid: 'F4', gross: 1234, fee: 43 },
    { tid: 'F5', fee: 29 }, // 19 + 10
    { tid: 'F6', fee: 35 }, // the EUR rule would accept it; the VISA rule does not
    { tid: 'F7', currency: 'USD', fee: 99 }, // no USD rule
    { tid: 'F1R', kind: 'refund', gross: -100, fee: 50 },
  ]);
  const run = await newRun(db.db);
  await matchRange(stageContext(db, config, NOW, run), selection('2026-11-20', '2026-11-20'));
  expect(await openKeys(db.db)).toEqual(['fee_mismatch:F2', 'fee_mismatch:F4', 'fee_mismatch:F6']);
  const f4 = (await openDiscrepancies(db.db)).find((d) => d.transaction_id === 'F4')!;
  expect(f4).toMatchObject({
    gateway_amount_minor: 41,
    settled_amount_minor: 43,
    difference_minor: 2,
    refundable_minor: null,
  });
  expect(f4.detail).toMatch(
    /^payment line \d+ of payunity_2026-11-20_\d+\.csv: fee differs from the schedule \(2\.5% \+ 0\.10 EUR, tolerance 0\.01 EUR\) on a gross of 12\.34 EUR$/,
  );
});

test('fee schedule: id-less lines of one reference are one finding with all their fees, each line named', async () => {
  const config = testConfig({
    payunity: { fees: [{ currency: 'EUR', percent: '2.5', fixed: '0.10', tolerance: '0.01' }] },
  });
  // One order paid in two parts: the file carries no ids, only the order's reference, and both fees are off.
  await insertGateway(db.db, [
    { id: 'S1', time: T(8), mref: 'ORD-SPLIT', amount: 1000 },
    { id: 'S2', time: T(9), mref: 'ORD-SPLIT', amount: 2000 },
  ]);
  await insertFile(db.db, 'payunity', '2026-11-20', [
    { tid: null, mref: 'ORD-SPLIT', gross: 1000, fee: 40 }, // expected 25 + 10 = 35
    { tid: null, mref: 'ORD-SPLIT', gross: 2000, fee: 70 }, // expected 50 + 10 = 60
  ]);
  const run = await newRun(db.db);
  await matchRange(stageContext(db, config, NOW, run), selection('2026-11-20', '2026-11-20'));
  expect(await openKeys(db.db)).toEqual(['fee_mismatch:ref:ORD-SPLIT']);
  const d = (await openDiscrepancies(db.db))[0]!;
  expect(d).toMatchObject({ gateway_amount_minor: 95, settled_amount_minor: 110, difference_minor: 15 });
  expect(d.detail).toMatch(
    /^2 lines' fees differ from the schedule \(2\.5% \+ 0\.10 EUR, tolerance 0\.01 EUR\): payment line 2 of (\S+) \(fee 0\.40 EUR, expected 0\.35 EUR\), payment line 3 of \1 \(fee 0\.70 EUR, expected 0\.60 EUR\)$/,
  );
});

test('a partial void cancels its part; a settled PA needs a capture; chargeback reversals are refundable again', async () => {
  const rv = (id: string, of: string, amount: number | null) =>
    ({ id, type: 'RV', kind: 'reversal', time: T(9), ref: of, root: of, amount }) as const;
  await insertGateway(db.db, [
    { id: 'PV1', time: T(8) }, // 10.00, 3.00 voided: 7.00 settles
    rv('PV1V', 'PV1', 300),
    { id: 'PV2', time: T(8) }, // the same, settled whole: 3.00 too much
    rv('PV2V', 'PV2', 300),
    { id: 'PV3', time: T(8) }, // the same, never settled: 7.00 missing
    rv('PV3V', 'PV3', 300),
    { id: 'PV4', time: T(8) }, // voided in two parts adding up to the whole: reversed
    rv('PV4A', 'PV4', 600),
    rv('PV4B', 'PV4', 400),
    { id: 'PA1', type: 'PA', kind: 'authorization', time: T(8) }, // voided, yet settled
    rv('PA1V', 'PA1', null),
    { id: 'PA2', type: 'PA', kind: 'authorization', time: T(8), amount: 2000 }, // never captured, yet settled
    { id: 'PA3', type: 'PA', kind: 'authorization', time: T(8) }, // captured: its line settles the capture
    { id: 'PA3C', type: 'CP', time: T(9), ref: 'PA3', root: 'PA3' },
    { id: 'CBR', time: T(8) }, // charged back, and the chargeback reversed: the 1.00 settled too much is refundable
    {
      id: 'CBR1',
      type: 'CB',
      kind: 'chargeback',
      status: 'chargeback',
      time: T(9),
      ref: 'CBR',
      root: 'CBR',
      amount: -1000,
    },
    {
      id: 'CBR2',
      type: 'CR',
      kind: 'chargeback_reversal',
      time: T(10),
      ref: 'CBR',
      root: 'CBR',
      amount: 1000,
    },
  ]);
  await insertFile(db.db, 'payunity', '2026-11-20', [
    { tid: 'PV1', gross: 700 },
    { tid: 'PV2', gross: 1000 },
    { tid: 'PV4', gross: 1000 },
    { tid: 'PA1' },
    { tid: 'PA2', gross: 2000 },
    { tid: 'PA3' },
    { tid: 'CBR', gross: 1100 },
    { tid: 'CBR1', kind: 'chargeback', gross: -1000 },
    { tid: 'CBR2', kind: 'chargeback_reversal', gross: 1000 },
  ]);
  const run = await newRun(db.db);
  await matchRange(stageContext(db, testConfig(), NOW, run), selection('2026-11-20', '2026-11-20'));
  expect((await openKeys(db.db)).filter((k) => !k.endsWith(':PA3C'))).toEqual([
    'amount_mismatch:CBR',
    'amount_mismatch:PV2',
    'missing_in_settlement:PV3',
    'status_mismatch:PA1',
    'status_mismatch:PA2',
    'status_mismatch:PV4',
  ]);
  const byKey = new Map((await openDiscrepancies(db.db)).map((d) => [`${d.type}:${d.transaction_id}`, d]));
  expect(byKey.get('amount_mismatch:PV2')).toMatchObject({
    gateway_amount_minor: 700,
    settled_amount_minor: 1000,
    refundable_minor: 300,
  });
  expect(byKey.get('missing_in_settlement:PV3')).toMatchObject({ gateway_amount_minor: 700 });
  expect(byKey.get('status_mismatch:PA1')!.detail).toMatch(
    /^payment line 5 of payunity_2026-11-20_\d+\.csv: settled as paid, but the gateway says reversed$/,
  );
  expect(byKey.get('status_mismatch:PA2')!.detail).toMatch(
    /^payment line 6 of payunity_2026-11-20_\d+\.csv: settled as paid, but the gateway says authorized \(PA\), never captured$/,
  );
  expect(byKey.get('amount_mismatch:CBR')).toMatchObject({ difference_minor: 100, refundable_minor: 100 });
});

test('a refund line settled while the gateway says the refund failed is a status_mismatch, never a refund', async () => {
  const rf = (id: string, status: string) =>
    ({ id, type: 'RF', kind: 'refund', status, time: T(9), ref: 'P1', root: 'P1', amount: -400 }) as const;
  await insertGateway(db.db, [
    { id: 'P1', time: T(8) },
    rf('RFAIL', 'failed'),
    rf('RCANC', 'cancelled'),
    rf('ROK', 'succeeded'),
    rf('RPEND', 'pending'), // not final: settling early is no status problem
  ]);
  await insertFile(db.db, 'payunity', '2026-11-20', [
    { tid: 'P1' },
    { tid: 'RFAIL', kind: 'refund', gross: -400 },
    { tid: 'RCANC', kind: 'refund', gross: -400 },
    { tid: 'ROK', kind: 'refund', gross: -400 },
    { tid: 'RPEND', kind: 'refund', gross: -400 },
  ]);
  const run = await newRun(db.db);
  await matchRange(stageContext(db, testConfig(), NOW, run), selection('2026-11-20', '2026-11-20'));
  expect(await openKeys(db.db)).toEqual(['status_mismatch:RCANC', 'status_mismatch:RFAIL']);
  const byKey = new Map((await openDiscrepancies(db.db)).map((d) => [`${d.type}:${d.transaction_id}`, d]));
  expect(byKey.get('status_mismatch:RFAIL')).toMatchObject({
    payment_id: 'P1',
    gateway_amount_minor: -400,
    settled_amount_minor: -400,
    refundable_minor: null,
    detail: expect.stringMatching(
      /^refund line 3 of payunity_2026-11-20_\d+\.csv: settled as refunded, but the gateway says failed$/,
    ),
  });
});
