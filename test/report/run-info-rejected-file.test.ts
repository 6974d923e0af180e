// Run info lists a file refused whole with its SHA-256 and reason, but not with line counts it never had: the loader
// refuses such a file before counting its lines, so a 0 there would tell finance the file was empty.
import ExcelJS from 'exceljs';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../../src/report/index.js';
import { testDbPerSuite } from '../helpers/db.js';
import { seed, stageContext, testConfig, tmpReportsDir } from './fixture.js';

const tdb = testDbPerSuite();
let row: Record<string, unknown> | undefined;

beforeAll(async () => {
  const seeded = await seed(tdb.pool);
  await tdb.pool.query(
    `insert into settlement_files (provider, remote_path, file_name, size, sha256, settlement_date, profile, status,
       reject_reason, run_id)
     values ('payunity', '/out/PAYUNITY_SETTLEMENT_g_20261120.csv', 'PAYUNITY_SETTLEMENT_g_20261120.csv', 4096,
       repeat('e', 64), '2026-11-20', 'payunity', 'rejected', 'trailer says 40 lines but the file has 41', $1)`,
    [seeded.runId],
  );
  const report = await writeReport(stageContext(tdb, testConfig(tmpReportsDir())), seeded.runId);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(report);
  const ws = wb.getWorksheet('Run info')!;
  const header = ws.getRow(1);
  ws.eachRow((r, n) => {
    if (n === 1 || r.getCell(2).text !== 'PAYUNITY_SETTLEMENT_g_20261120.csv') return;
    row = {};
    header.eachCell((h, col) => (row![h.text] = r.getCell(col).value));
  });
});

describe('Run info, a file refused whole', () => {
  it('shows its checksum and reason, nothing loaded, and no line counts', () => {
    expect(row).toBeDefined();
    expect(row!['Value']).toBe('rejected');
    expect(row!['SHA-256']).toBe('e'.repeat(64));
    expect(row!['Loaded']).toBe(0);
    expect(row!['Lines']).toBeNull();
    expect(row!['Rejected']).toBeNull();
    expect(String(row!['Detail'])).toContain('trailer says 40 lines');
  });
});
