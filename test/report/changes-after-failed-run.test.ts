// The Changes sheet of a rerun after a failed run over the same dates: what the failed run recorded is news too.
import ExcelJS from 'exceljs';
import { expect, it } from 'vitest';
import { writeReport } from '../../src/report/index.js';
import { testDbPerTest } from '../helpers/db.js';
import { stageContext, testConfig, tmpReportsDir } from './fixture.js';

const tdb = testDbPerTest();

async function run(status: 'failed' | 'succeeded', from: string, startedAt: string): Promise<number> {
  const { rows } = await tdb.pool.query<{ id: number }>(
    `insert into runs (command, from_date, to_date, providers, status, started_at, finished_at, tool_version, manifest, counts)
     values ('run', $1, $1, '{payunity,useepay}', $2, $3, $3::timestamptz + interval '1 minute', '0.1.0', '{}', '{}')
     returning id`,
    [from, status, startedAt],
  );
  return rows[0]!.id;
}

async function discrepancy(id: string, status: 'open' | 'closed', openedRun: number): Promise<void> {
  await tdb.pool.query(
    `insert into discrepancies (id, provider, type, transaction_id, currency, gateway_amount_minor, detail, status,
       opened_run_id, closed_at, close_reason)
     values ($1, 'payunity', 'missing_in_settlement', $1, 'EUR', 1000, 'payment not settled', $2, $3,
       case when $2 = 'closed' then now() end, case when $2 = 'closed' then 'settled' end)`,
    [id, status, openedRun],
  );
}

async function changes(runId: number): Promise<unknown[][]> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(await writeReport(stageContext(tdb, testConfig(tmpReportsDir())), runId));
  const out: unknown[][] = [];
  wb.getWorksheet('Changes')!.eachRow((row, n) => {
    if (n > 1) out.push((row.values as unknown[]).slice(1, 3));
  });
  return out;
}

it('shows what a failed run over the same dates opened and closed before the rerun', async () => {
  const older = await run('succeeded', '2026-11-19', '2026-11-20T06:00:00Z'); // other dates: no baseline
  const failed = await run('failed', '2026-11-20', '2026-11-21T02:30:00Z');
  const rerun = await run('succeeded', '2026-11-20', '2026-11-21T08:00:00Z');
  await discrepancy('D-A', 'open', failed); // opened by the failed run (its provider's match committed)
  await discrepancy('D-B', 'open', rerun); // opened by the rerun
  await discrepancy('D-C', 'closed', older); // closed by the failed run, not seen by the rerun
  await discrepancy('D-D', 'open', older); // carried, unchanged by both
  const rd = (runId: number, id: string, change: string) =>
    tdb.pool.query(`insert into run_discrepancies (run_id, discrepancy_id, change) values ($1, $2, $3)`, [
      runId,
      id,
      change,
    ]);
  await rd(failed, 'D-A', 'opened');
  await rd(failed, 'D-C', 'closed');
  await rd(failed, 'D-D', 'unchanged');
  await rd(rerun, 'D-A', 'unchanged');
  await rd(rerun, 'D-B', 'opened');
  await rd(rerun, 'D-D', 'unchanged');

  expect(await changes(rerun)).toEqual([
    ['opened', 'D-A'],
    ['opened', 'D-B'],
    ['closed', 'D-C'],
  ]);
  // A later succeeded run over the same dates compares with the rerun, as before: nothing new.
  const third = await run('succeeded', '2026-11-20', '2026-11-22T08:00:00Z');
  for (const id of ['D-A', 'D-B', 'D-D']) await rd(third, id, 'unchanged');
  expect(await changes(third)).toEqual([]);
});
