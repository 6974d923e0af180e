// Run info records a correction: the new version says which file it replaces, and the replaced version is listed.
import ExcelJS from 'exceljs';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../../src/report/index.js';
import { testDbPerSuite } from '../helpers/db.js';
import { seed, stageContext, testConfig, tmpReportsDir, type Seeded } from './fixture.js';

const tdb = testDbPerSuite();
let seeded: Seeded;
let rows: Record<string, string>[];
let oldId: number;
let newId: number;

beforeAll(async () => {
  seeded = await seed(tdb.pool);
  const file = async (sha: string, status: string, runId: number, supersedes: number | null) =>
    (
      await tdb.pool.query(
        `insert into settlement_files (provider, remote_path, file_name, size, sha256, settlement_date, profile, status,
           line_count, loaded_count, rejected_count, run_id, supersedes_file_id)
         values ('payunity', '/out/PAYUNITY_SETTLEMENT_e_20261120.csv', 'PAYUNITY_SETTLEMENT_e_20261120.csv', 100,
           repeat($1, 64), '2026-11-20', 'payunity', $2, 2, 2, 0, $3, $4) returning id`,
        [sha, status, runId, supersedes],
      )
    ).rows[0].id as number;
  oldId = await file('a', 'superseded', seeded.prevRunId, null);
  newId = await file('b', 'loaded', seeded.runId, oldId);
  const report = await writeReport(stageContext(tdb, testConfig(tmpReportsDir())), seeded.runId);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(report);
  const ws = wb.getWorksheet('Run info')!;
  const headers = (ws.getRow(1).values as unknown[]).slice(1) as string[];
  rows = [];
  ws.eachRow((r, n) => {
    if (n === 1) return;
    rows.push(Object.fromEntries(headers.map((h, i) => [h, r.getCell(i + 1).text])));
  });
});

describe('Run info', () => {
  it('lists a correction and the version it replaced, each saying so', () => {
    const files = rows.filter((r) => r['Item'] === 'PAYUNITY_SETTLEMENT_e_20261120.csv');
    expect(files.map((r) => [r['SHA-256']!.slice(0, 1), r['Value']])).toEqual([
      ['a', 'superseded'],
      ['b', 'loaded'],
    ]);
    const detail = (sha: string) => files.find((r) => r['SHA-256']!.startsWith(sha))!['Detail'];
    expect(detail('a')).toContain(`file ${oldId}, replaced by a correction`);
    expect(detail('b')).toContain(`a correction: replaces file ${oldId}`);
    expect(newId).toBeGreaterThan(oldId);
  });
});
