// The approval reader on workbooks built for the purpose: the report's own format (ExcelJS's streaming writer, no
// shared strings), what spreadsheet programs save (shared strings, other zip orders, part names and prefixes), and
// workbooks whose other sheets it must not even decompress. The reader streams: the test of that is that a sheet
// it does not need may be anything at all, and that rows are handed on before a sheet's part is read to its end.
import { createHash } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discrepancyId } from '../../src/reconcile/ids.js';
import { idProblem, readActionRows } from '../../src/report/approval-reader.js';
import { DISCREPANCIES_SHEET } from '../../src/report/sheets/discrepancies.js';
import { sheetRows } from '../../src/report/xlsx/sheet-rows.js';
import { ZipFile } from '../../src/report/xlsx/zip.js';
import { UsageError } from '../../src/shared/errors.js';
import { requireSoffice, sofficeConvert } from '../helpers/soffice.js';
import { writeZip, xlsxParts, type FixtureCell, type FixtureSheet, type ZipPart } from './xlsx-fixture.js';

const soffice = requireSoffice('the approval reader test of a workbook saved as .ods by LibreOffice');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'payrecon-approval-reader-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const HEADERS = DISCREPANCIES_SHEET.columns.map((c) => c.header);

/** A Discrepancies row as the report writes it, with this Action (or none). */
function row(tx: string, action: string | null, amount = 25): FixtureCell[] {
  const cells: Record<string, FixtureCell> = {
    'Discrepancy ID': discrepancyId('payunity', 'duplicate_charge', tx),
    Provider: 'payunity',
    Type: 'duplicate_charge',
    'Transaction ID': tx,
    Currency: 'EUR',
    'Gateway amount': amount,
    'Settled amount': amount,
    Difference: 0,
    Detail: 'charged twice',
    Action: action,
  };
  return HEADERS.map((h) => cells[h] ?? null);
}

const idOf = (tx: string) => discrepancyId('payunity', 'duplicate_charge', tx);

/** What readActionRows gives for a row made by `row`. */
const expected = (sheet: string, n: number, tx: string, action: string, amount = 25) => ({
  action,
  sheet,
  row: n,
  discrepancyId: idOf(tx),
  idMatchesRow: true,
  idAsNumber: null,
  currency: 'EUR',
  gatewayAmount: amount,
  settledAmount: amount,
  difference: 0,
});

/** Sheets of a report that continues in "Discrepancies (2)", with look-alikes that are not Discrepancies sheets. */
const REPORT: FixtureSheet[] = [
  { name: 'Summary', rows: [['Provider', 'Count']] },
  { name: 'Discrepancies', rows: [HEADERS, row('t1', 'REFUND'), row('t2', null), row('t3', 'ignore ', 9.9)] },
  { name: 'Discrepancies (2)', rows: [HEADERS, row('t4', null), row('t5', 'INVESTIGATE')] },
  { name: 'Discrepancies old', rows: [HEADERS, row('t6', 'REFUND')] },
  { name: 'Changes', rows: [HEADERS, row('t7', 'REFUND')] },
];
const REPORT_ROWS = [
  expected('Discrepancies', 2, 't1', 'REFUND'),
  expected('Discrepancies', 4, 't3', 'IGNORE', 9.9),
  expected('Discrepancies (2)', 3, 't5', 'INVESTIGATE'),
];

const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

async function exceljsWorkbook(file: string, streaming: boolean): Promise<void> {
  if (streaming) {
    // As the report is written: ExcelJS's streaming writer, text inline, worksheets before the workbook part.
    const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: false });
    for (const s of REPORT) {
      const ws = wb.addWorksheet(s.name);
      for (const r of s.rows as FixtureCell[][]) ws.addRow(r).commit();
      ws.commit();
    }
    await wb.commit();
  } else {
    // ExcelJS's ordinary writer: shared strings, after the worksheets.
    const wb = new ExcelJS.Workbook();
    for (const s of REPORT) wb.addWorksheet(s.name).addRows(s.rows as FixtureCell[][]);
    await wb.xlsx.writeFile(file);
  }
}

describe('readActionRows', () => {
  it.each([
    ['streaming', true],
    ['ordinary', false],
  ])(
    "reads the Action rows of Discrepancies and its continuation sheets, and no other sheet (ExcelJS's %s writer)",
    async (name, streaming) => {
      const file = path.join(dir, `exceljs-${name}.xlsx`);
      await exceljsWorkbook(file, streaming);
      const read = await readActionRows(file);
      expect(read.rows).toEqual(REPORT_ROWS);
      expect(read.sha256).toBe(await sha256(file));
    },
  );

  it('finds each sheet through the relationships, in any zip order, under any part name, with prefixed XML', async () => {
    const variants: Array<[string, ZipPart[]]> = [
      ['shared strings, workbook part last', reorder(xlsxParts(REPORT, { sharedStrings: true }), 'last')],
      [
        'shared strings and relationships first, workbook part last',
        reorder(xlsxParts(REPORT, { sharedStrings: true }), 'rels first'),
      ],
      [
        'absolute targets, other part names',
        xlsxParts(
          REPORT.map((s, i) => ({ ...s, part: `xl/worksheets/part-${5 - i}.xml` })),
          { absoluteTargets: true },
        ),
      ],
      ['prefixed elements', xlsxParts(REPORT, { prefix: 'x', sharedStrings: true })],
    ];
    for (const [name, parts] of variants) {
      const file = path.join(dir, `${name}.xlsx`);
      await writeZip(file, parts);
      expect((await readActionRows(file)).rows, name).toEqual(REPORT_ROWS);
    }
  });

  it('never reads the other sheets: one may be malformed XML, or not even valid compressed data', async () => {
    const parts = xlsxParts([
      ...REPORT.slice(0, 3),
      { name: 'Changes', rows: '<worksheet><sheetData><row><c>not closed' },
      { name: 'Rejected lines', rows: '<worksheet/>' },
    ]);
    const malformed = path.join(dir, 'malformed-changes.xlsx');
    await writeZip(malformed, parts);
    expect((await readActionRows(malformed)).rows).toEqual(REPORT_ROWS);

    const undecompressable = path.join(dir, 'damaged-rejected-lines.xlsx');
    await writeZip(
      undecompressable,
      parts.map((p) =>
        p.name === 'xl/worksheets/sheet5.xml' ? { ...p, replaceCompressed: Buffer.alloc(4096, 0xff) } : p,
      ),
    );
    expect((await readActionRows(undecompressable)).rows).toEqual(REPORT_ROWS);
  });

  it('hands on the rows of a sheet as its part is read, not once it is read whole', async () => {
    // A sheet far larger than one chunk of text, malformed at its very end: its first rows come all the same.
    const rows: FixtureCell[][] = [HEADERS];
    for (let i = 0; rows.length < 3000; i++) rows.push(row(`t${i}`, 'REFUND'));
    const [good] = xlsxParts([{ name: 'Discrepancies', rows }]).filter((p) => p.name.includes('worksheets'));
    const file = path.join(dir, 'cut.xlsx');
    await writeZip(file, xlsxParts([{ name: 'Discrepancies', rows: `${String(good!.data)}<extra>` }]));
    const handle = await open(file);
    try {
      const zip = await ZipFile.open(handle);
      const it = sheetRows(zip, zip.entry('xl/worksheets/sheet1.xml')!, []);
      expect((await it.next()).value).toMatchObject({ number: 1, cells: [undefined, ...HEADERS] });
      await it.return(undefined);
    } finally {
      await handle.close();
    }
    await expect(readActionRows(file)).rejects.toThrow(
      new RegExp(
        `^workbook ${file} is not a readable \\.xlsx workbook \\(xl/worksheets/sheet1\\.xml: .+\\)$`,
      ),
    );
  });

  it('refuses a damaged Discrepancies part, naming it, and says which sheet lacks which column', async () => {
    const parts = xlsxParts(REPORT);
    const damaged = path.join(dir, 'damaged.xlsx');
    await writeZip(
      damaged,
      parts.map((p) =>
        p.name === 'xl/worksheets/sheet2.xml'
          ? { ...p, replaceCompressed: deflateRawSync(String(p.data).replace('t1', 't9')) }
          : p,
      ),
    );
    const run = readActionRows(damaged, 'approval file');
    await expect(run).rejects.toBeInstanceOf(UsageError);
    await expect(run).rejects.toThrow(
      `approval file ${damaged} is not a readable .xlsx workbook (xl/worksheets/sheet2.xml is damaged (its size or checksum does not match))`,
    );

    const noAction = path.join(dir, 'no-action-column.xlsx');
    await writeZip(
      noAction,
      xlsxParts([REPORT[1]!, { name: 'Discrepancies (2)', rows: [HEADERS.slice(0, -1), row('t5', null)] }]),
    );
    await expect(readActionRows(noAction)).rejects.toThrow(
      `workbook ${noAction}: sheet Discrepancies (2) has no "Action" column`,
    );
    const empty = path.join(dir, 'empty-sheet.xlsx');
    await writeZip(empty, xlsxParts([{ name: 'Discrepancies', rows: [[], HEADERS] }]));
    await expect(readActionRows(empty)).rejects.toThrow(
      `workbook ${empty}: sheet Discrepancies has no "Discrepancy ID" column`,
    );
    const none = path.join(dir, 'no-discrepancies.xlsx');
    await writeZip(none, xlsxParts(REPORT.filter((s) => !s.name.startsWith('Discrepancies'))));
    await expect(readActionRows(none)).rejects.toThrow(`workbook ${none} has no Discrepancies sheet`);
  });

  it('says which id cell holds a number: what a CSV round trip makes of a 19-digit id', async () => {
    const tx = '1012411211459123457';
    const cells = (id: FixtureCell, txCell: FixtureCell): FixtureCell[] => {
      const byHeader: Record<string, FixtureCell> = {
        'Discrepancy ID': id,
        Provider: 'useepay',
        Type: 'duplicate_charge',
        'Transaction ID': txCell,
        Currency: 'EUR',
        Action: 'REFUND',
      };
      return HEADERS.map((h) => byHeader[h] ?? null);
    };
    const useepayId = (key: string) => discrepancyId('useepay', 'duplicate_charge', key);
    const file = path.join(dir, 'numbers.xlsx');
    await writeZip(
      file,
      xlsxParts(
        [
          {
            name: 'Discrepancies',
            rows: [
              HEADERS,
              cells(useepayId(tx), tx),
              cells(useepayId(tx), Number(tx)), // 1012411211459123500: digits lost
              cells(123, tx),
              cells(useepayId('12345'), 12345), // a number all the same, but the id is still the row's own
              cells(idOf('t1'), tx), // text: only sorted apart from its row
            ],
          },
        ],
        { sharedStrings: true },
      ),
    );
    const rows = (await readActionRows(file)).rows;
    expect(rows.map((r) => [r.row, r.idMatchesRow, r.idAsNumber, idProblem(r)])).toEqual([
      [2, true, null, null],
      [
        3,
        false,
        'Transaction ID',
        'the Transaction ID was turned into a number (digits may be lost): keep ids as text',
      ],
      [
        4,
        false,
        'Discrepancy ID',
        'the Discrepancy ID was turned into a number (digits may be lost): keep ids as text',
      ],
      [5, true, null, null],
      [
        6,
        false,
        null,
        "the Discrepancy ID does not belong to this row's Provider, Type and Transaction ID (sorted or edited apart from its row?)",
      ],
    ]);
  });

  it('refuses an OpenDocument spreadsheet, saying how to save it instead', async () => {
    const odf = (mimetype: boolean): ZipPart[] => [
      ...(mimetype
        ? [{ name: 'mimetype', data: 'application/vnd.oasis.opendocument.spreadsheet', method: 0 as const }]
        : []),
      { name: 'content.xml', data: '<office:document-content/>' },
      { name: 'META-INF/manifest.xml', data: '<manifest:manifest/>' },
    ];
    for (const [name, parts] of [
      ['saved.ods', odf(true)],
      ['no-mimetype.ods', odf(false)],
      ['named-as-xlsx.xlsx', odf(true)],
    ] as const) {
      const file = path.join(dir, name);
      await writeZip(file, parts);
      await expect(readActionRows(file, 'approval file')).rejects.toThrow(
        new UsageError(
          `approval file ${file} is an OpenDocument spreadsheet, not .xlsx: save it as Excel 2007-365 (.xlsx)`,
        ),
      );
    }
    // A zip file that is neither says what it lacks.
    const other = path.join(dir, 'other.xlsx');
    await writeZip(other, [{ name: 'word/document.xml', data: '<w:document/>' }]);
    await expect(readActionRows(other)).rejects.toThrow(
      `workbook ${other} is not a readable .xlsx workbook (no xl/workbook.xml in it)`,
    );
  });

  it.skipIf(!soffice)('refuses a workbook LibreOffice saved as .ods', async () => {
    const xlsx = path.join(dir, 'to-convert.xlsx');
    await exceljsWorkbook(xlsx, false);
    const out = await mkdtemp(path.join(dir, 'ods-'));
    await sofficeConvert(soffice!, xlsx, 'ods', out);
    const ods = path.join(out, 'to-convert.ods');
    await expect(readActionRows(ods)).rejects.toThrow(
      `workbook ${ods} is an OpenDocument spreadsheet, not .xlsx: save it as Excel 2007-365 (.xlsx)`,
    );
  });
});

/** The parts in another order: the workbook part last, and the relationships and shared strings first or not. */
function reorder(parts: ZipPart[], how: 'last' | 'rels first'): ZipPart[] {
  const isWorkbook = (p: ZipPart) => p.name === 'xl/workbook.xml';
  const early = (p: ZipPart) => how === 'rels first' && /rels$|sharedStrings/.test(p.name);
  return [
    ...parts.filter((p) => early(p)),
    ...parts.filter((p) => !early(p) && !isWorkbook(p)).reverse(),
    ...parts.filter(isWorkbook),
  ];
}
