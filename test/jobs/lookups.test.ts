// Ids asked of a gateway one by one are recorded with what each answer held, and listed in the workbook's Run info.
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { mapPayunityRecord, payunityIdentity } from '../../src/gateways/payunity/map.js';
import { mapLookedUp } from '../../src/gateways/reject.js';
import type { GatewayClient, GatewayTransaction } from '../../src/gateways/types.js';
import { lookupAndStore } from '../../src/jobs/stages.js';
import { writeReport } from '../../src/report/index.js';
import { testDbPerSuite } from '../helpers/db.js';
import { gatewayRecord } from '../gateways/helpers.js';
import { seed, stageContext, testConfig, tmpReportsDir } from '../report/fixture.js';

const tdb = testDbPerSuite();

async function newRun(): Promise<number> {
  const { id } = await tdb.db
    .insertInto('runs')
    .values({ command: 'run', tool_version: 'test' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
}

/** A gateway that knows `known` (id -> the records its lookup returns) and nothing else. */
function gateway(known: Record<string, GatewayTransaction[]>): GatewayClient {
  const fail = () => Promise.reject(new Error('not used'));
  return {
    provider: 'payunity',
    pull: () => ({ [Symbol.asyncIterator]: fail }) as unknown as AsyncIterable<never>,
    lookup: (id) => Promise.resolve(known[id] ?? []),
    createRefund: fail,
    findRefund: fail,
  };
}

describe('lookupAndStore', () => {
  it('records every id asked with its record count once the records are stored, and Run info lists them', async () => {
    const { runId } = await seed(tdb.pool);
    const ctx = stageContext(tdb, testConfig(tmpReportsDir()), runId);
    // A refund of an old sale brings the sale with it; the second id is unknown to the gateway.
    const refund = gatewayRecord('rf-old', {
      gatewayType: 'RF',
      kind: 'refund',
      amountMinor: -500,
      referencedId: 'db-old',
      rootPaymentId: 'db-old',
    });
    const client = gateway({ 'rf-old': [refund, gatewayRecord('db-old')] });
    expect(await lookupAndStore(ctx, client, ['rf-old', 'nobody-knows'])).toBe(2);

    const asked = await tdb.db
      .selectFrom('gateway_lookups')
      .select(['run_id', 'provider', 'transaction_id', 'record_count'])
      .orderBy('id')
      .execute();
    expect(asked).toEqual([
      { run_id: runId, provider: 'payunity', transaction_id: 'rf-old', record_count: 2 },
      { run_id: runId, provider: 'payunity', transaction_id: 'nobody-knows', record_count: 0 },
    ]);
    const stored = await tdb.db
      .selectFrom('gateway_transactions')
      .select('transaction_id')
      .where('transaction_id', 'in', ['rf-old', 'db-old'])
      .orderBy('transaction_id')
      .execute();
    expect(stored.map((r) => r.transaction_id)).toEqual(['db-old', 'rf-old']);

    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(await writeReport(ctx, runId));
    const info = wb.getWorksheet('Run info')!;
    const lookups: unknown[][] = [];
    info.eachRow((row) => {
      const v = row.values as unknown[];
      if (v[1] === 'API lookup') lookups.push([v[2], v[3], v[9], v[12]]);
    });
    expect(lookups).toEqual([
      ['rf-old', 'payunity', 2, 'asked by id'],
      ['nobody-knows', 'payunity', 0, 'not known to the gateway: asked again by the next run'],
    ]);
  });

  it('records nothing when a lookup fails, so the run never claims an answer it did not store', async () => {
    const runId = await newRun();
    const ctx = stageContext(tdb, testConfig(tmpReportsDir()), runId);
    const client = gateway({});
    client.lookup = (id) =>
      id === 'breaks' ? Promise.reject(new Error('gateway down')) : Promise.resolve([gatewayRecord(id)]);
    await expect(lookupAndStore(ctx, client, ['fine', 'breaks'])).rejects.toThrow('gateway down');
    const asked = await tdb.db
      .selectFrom('gateway_lookups')
      .select('transaction_id')
      .where('run_id', '=', runId)
      .execute();
    expect(asked).toEqual([]);
  });

  it('keeps a record a lookup cannot read as a rejection that holds its payment, and resolves it once read', async () => {
    const runId = await newRun();
    const ctx = stageContext(tdb, testConfig(tmpReportsDir()), runId);
    const refund = (amount: string) => ({
      id: 'rf-bad',
      referencedId: 'db-held',
      paymentType: 'RF',
      amount,
      currency: 'USD',
      result: { code: '000.000.000' },
      timestamp: '2026-11-20 10:00:00+0000',
    });
    // What the clients do with an answer: the real mapping, by way of mapLookedUp.
    const answering = (amount: string): GatewayClient => {
      const client = gateway({});
      client.lookup = (id) =>
        Promise.resolve().then(() =>
          id === 'rf-bad'
            ? [
                mapLookedUp(
                  'payunity',
                  'v1/query/{id}',
                  new Date(),
                  refund(amount),
                  undefined,
                  mapPayunityRecord,
                  payunityIdentity,
                ),
              ]
            : [gatewayRecord(id)],
        );
      return client;
    };
    expect(await lookupAndStore(ctx, answering('10.1234'), ['rf-bad', 'fine-1'])).toBe(1);
    const asked = await tdb.db
      .selectFrom('gateway_lookups')
      .select(['transaction_id', 'record_count', 'rejected_reason'])
      .where('run_id', '=', runId)
      .orderBy('id')
      .execute();
    expect(asked).toEqual([
      {
        transaction_id: 'rf-bad',
        record_count: 0,
        rejected_reason: expect.stringMatching(/10\.1234/) as unknown,
      },
      { transaction_id: 'fine-1', record_count: 1, rejected_reason: null },
    ]);
    const rejection = async () =>
      await tdb.db
        .selectFrom('rejected_records')
        .select(['endpoint', 'record_id', 'hold_id', 'resolution'])
        .select((eb) => eb(eb.ref('window_from'), '=', eb.ref('window_to')).as('by_id'))
        .where('record_id', '=', 'rf-bad')
        .execute();
    expect(await rejection()).toEqual([
      { endpoint: 'v1/query/{id}', record_id: 'rf-bad', hold_id: 'db-held', resolution: null, by_id: true },
    ]);

    // The next run reads it: stored, and the rejection (and the refund hold it made) resolved.
    const next = await newRun();
    await lookupAndStore(stageContext(tdb, testConfig(tmpReportsDir()), next), answering('10.12'), [
      'rf-bad',
    ]);
    expect(await rejection()).toEqual([
      {
        endpoint: 'v1/query/{id}',
        record_id: 'rf-bad',
        hold_id: 'db-held',
        resolution: 'stored by a later pull',
        by_id: true,
      },
    ]);
  });
  it('resolves a rejection of a lookup whose record has no id once the id asked is read fine', async () => {
    const newRun = async () =>
      (
        await tdb.db
          .insertInto('runs')
          .values({ command: 'run', tool_version: 'test' })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
    // The gateway's answer about `rf-anon` lacks the record's id (and names no payment): it holds every refund.
    const answering = (withId: boolean): GatewayClient => {
      const client = gateway({});
      client.lookup = (id) =>
        Promise.resolve().then(() => [
          mapLookedUp(
            'payunity',
            'v1/query/{id}',
            new Date(),
            {
              ...(withId ? { id } : {}),
              paymentType: 'RF',
              amount: '1.00',
              currency: 'USD',
              result: { code: '000.000.000' },
              timestamp: '2026-11-20 10:00:00+0000',
            },
            undefined,
            mapPayunityRecord,
            payunityIdentity,
          ),
        ]);
      return client;
    };
    const ctx = async () => stageContext(tdb, testConfig(tmpReportsDir()), await newRun());
    expect(await lookupAndStore(await ctx(), answering(false), ['rf-anon'])).toBe(0);
    const open = async () =>
      await tdb.db
        .selectFrom('rejected_records')
        .select(['record_id', 'hold_id'])
        .where('resolved_at', 'is', null)
        .where('endpoint', '=', 'v1/query/{id}')
        .execute();
    expect((await open()).map((r) => r.hold_id)).toEqual([null]);
    // Read fine by a later run's lookup: the hold lifts (it named no id of its own to be resolved by).
    expect(await lookupAndStore(await ctx(), answering(true), ['rf-anon'])).toBe(1);
    expect(await open()).toEqual([]);
  });
});
