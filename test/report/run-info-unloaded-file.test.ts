// A file the fetch left for the next fetch (gone, unreadable, too young, not the size listed) has no row in
// settlement_files: Run info still lists it among the input files, from the run's manifest, with its reason; and the
// Summary says its date's file arrived but was not loaded rather than that it is late.
import ExcelJS from 'exceljs';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../../src/report/index.js';
import { testDbPerSuite } from '../helpers/db.js';
import { seed, stageContext, testConfig, tmpReportsDir } from './fixture.js';

const tdb = testDbPerSuite();
const NAME = 'PAYUNITY_SETTLEMENT_G_20261120.csv';
const REASON = 'permission denied reading it: not loaded; the next fetch takes it again';
const rows: Record<string, Record<string, unknown>[]> = {};

beforeAll(async () => {
  const seeded = await seed(tdb.pool);
  await tdb.pool.query(
    `update runs set manifest = jsonb_set(jsonb_set(manifest, '{files}', $2::jsonb), '{lateFiles}', $3::jsonb)
     where id = $1`,
    [
      seeded.runId,
      JSON.stringify([
        {
          provider: 'payunity',
          name: NAME,
          remotePath: `/out/${NAME}`,
          sha256: null,
          settlementDate: '2026-11-20',
          status: 'refused',
          loaded: 0,
          rejected: 0,
          reason: REASON,
          retryNextFetch: true,
        },
      ]),
      JSON.stringify([
        {
          provider: 'payunity',
          settlementDate: '2026-11-20',
          expectedBy: '2026-11-20T12:00:00+01:00',
          status: 'not_loaded',
          files: [{ file: NAME, reason: REASON }],
        },
      ]),
    ],
  );
  const report = await writeReport(stageContext(tdb, testConfig(tmpReportsDir())), seeded.runId);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(report);
  for (const sheet of ['Run info', 'Summary']) {
    const ws = wb.getWorksheet(sheet)!;
    const header = ws.getRow(1);
    rows[sheet] = [];
    ws.eachRow((r, n) => {
      if (n === 1) return;
      const row: Record<string, unknown> = {};
      header.eachCell((h, col) => (row[h.text] = r.getCell(col).text));
      rows[sheet]!.push(row);
    });
  }
});

describe('a file left for the next fetch, in the workbook', () => {
  it('is an input file of Run info, not loaded, with its reason', () => {
    const row = rows['Run info']!.find((r) => r['Section'] === 'Input file' && r['Item'] === NAME);
    expect(row).toMatchObject({
      Provider: 'payunity',
      Value: 'not loaded',
      Loaded: '0',
      Lines: '',
      Detail: `/out/${NAME}; ${REASON}`,
    });
    // The files the table holds are listed as before beside it.
    expect(rows['Run info']!.filter((r) => r['Section'] === 'Input file').length).toBeGreaterThan(1);
  });

  it('makes its date "arrived, not loaded" in the Summary, not late', () => {
    const items = rows['Summary']!.filter((r) => r['Section'] === 'Settlement files').map((r) => r['Item']);
    expect(items).toEqual(['arrived, not loaded: 2026-11-20']);
    // The file it names and why, in words rather than JSON.
    const detail = rows['Summary']!.find((r) => r['Section'] === 'Settlement files')!['Detail'];
    expect(detail).toBe(`expected by 2026-11-20T12:00:00+01:00; arrived, not loaded: ${NAME} (${REASON})`);
  });
});
