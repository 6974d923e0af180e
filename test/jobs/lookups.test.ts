// Ids asked of a gateway one by one are recorded with what each answer held, and listed in the workbook's Run info.
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import type { GatewayClient, GatewayTransaction } from '../../src/gateways/types.js';
import { lookupAndStore } from '../../src/jobs/stages.js';
import { writeReport } from '../../src/report/index.js';
import { testDbPerSuite } from '../helpers/db.js';
import { gatewayRecord } from '../gateways/helpers.js';
import { seed, stageContext, testConfig, tmpReportsDir } from '../report/fixture.js';

const tdb = testDbPerSuite();

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
    const { id: runId } = await tdb.db
      .insertInto('runs')
      .values({ command: 'run', tool_version: 'test' })
      .returning('id')
      .executeTakeFirstOrThrow();
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
});
