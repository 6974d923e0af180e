// Rejected lines lists a file refused whole by an earlier run only while no version of that file is loaded: a bad
// re-delivery of a file loaded before (or loaded since) is history, not an open problem. This run's own refusals
// are always listed.
import ExcelJS from 'exceljs';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../../src/report/index.js';
import { testDbPerSuite } from '../helpers/db.js';
import { seed, stageContext, testConfig, tmpReportsDir, type Seeded } from './fixture.js';

const tdb = testDbPerSuite();
let seeded: Seeded;
let listed: string[];

beforeAll(async () => {
  seeded = await seed(tdb.pool);
  const file = (name: string, sha: string, status: string, runId: number) =>
    tdb.pool.query(
      `insert into settlement_files (provider, remote_path, file_name, size, sha256, settlement_date, profile, status,
         reject_reason, line_count, loaded_count, rejected_count, run_id)
       values ('payunity', '/out/' || $1, $1, 100, repeat($2, 64), '2026-11-20', 'payunity', $3,
         case when $3 = 'rejected' then 'trailer missing' end, 0, 0, 0, $4)`,
      [name, sha, status, runId],
    );
  // Loaded, then a truncated re-delivery refused by the earlier run: the loaded version stands.
  await file('PAYUNITY_SETTLEMENT_e_20261120.csv', 'a', 'loaded', seeded.prevRunId);
  await file('PAYUNITY_SETTLEMENT_e_20261120.csv', 'b', 'rejected', seeded.prevRunId);
  // Refused by the earlier run, never loaded: still open.
  await file('PAYUNITY_SETTLEMENT_f_20261120.csv', 'c', 'rejected', seeded.prevRunId);
  // Refused by this run, though a version is loaded: this run says so.
  await file('PAYUNITY_SETTLEMENT_e_20261120.csv', 'd', 'rejected', seeded.runId);
  const report = await writeReport(stageContext(tdb, testConfig(tmpReportsDir())), seeded.runId);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(report);
  listed = [];
  wb.getWorksheet('Rejected lines')!.eachRow((r, n) => {
    if (
      n > 1 &&
      r.getCell(5).text.startsWith('whole file rejected') &&
      r.getCell(2).text.endsWith('_20261120.csv')
    )
      listed.push(r.getCell(2).text);
  });
});

describe('Rejected lines', () => {
  it("lists refusals still open and this run's own, not a bad re-delivery of a loaded file", () => {
    expect(listed.sort()).toEqual([
      'PAYUNITY_SETTLEMENT_e_20261120.csv',
      'PAYUNITY_SETTLEMENT_f_20261120.csv',
    ]);
  });
});
