// The finance workbook, written from a real database and read back cell by cell.
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeReport, writeReportDetailed } from '../../src/report/index.js';
import { testDbPerSuite } from '../helpers/db.js';
import {
  INJECTIONS,
  DISCREPANCY_COLUMNS,
  LONG_ID,
  LONG_ID_2,
  seed,
  stageContext,
  testConfig,
  tmpReportsDir,
  type Seeded,
} from './fixture.js';

/** The sheets in the order reconciliation.md gives them (the contract, written out here, not imported). */
const SHEETS = [
  'Summary',
  'Discrepancies',
  'Awaiting settlement',
  'Chargebacks',
  'Refund plan',
  'Rejected lines',
  'Changes',
  'Run info',
];

const tdb = testDbPerSuite();
let seeded: Seeded;
let dir: string;
let file: string;
let wb: ExcelJS.Workbook;

beforeAll(async () => {
  seeded = await seed(tdb.pool);
  dir = tmpReportsDir();
  file = await writeReport(stageContext(tdb, testConfig(dir)), seeded.runId);
  wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
});

const sheet = (name: string) => {
  const ws = wb.getWorksheet(name);
  if (!ws) throw new Error(`no sheet ${name}`);
  return ws;
};
const rowValues = (ws: ExcelJS.Worksheet, n: number) => (ws.getRow(n).values as unknown[]).slice(1);
/** Data rows as objects keyed by header. */
function records(ws: ExcelJS.Worksheet): Array<Record<string, ExcelJS.Cell>> {
  const headers = rowValues(ws, 1) as string[];
  const out: Array<Record<string, ExcelJS.Cell>> = [];
  for (let r = 2; r <= ws.rowCount; r++) {
    const row = ws.getRow(r);
    out.push(Object.fromEntries(headers.map((h, i) => [h, row.getCell(i + 1)])));
  }
  return out;
}

describe('the report workbook', () => {
  it('is named after the run, recorded on the run, and leaves no temporary file behind', async () => {
    expect(path.basename(file)).toBe(`payrecon_2026-11-19_2026-11-20_run-${seeded.runId}.xlsx`);
    expect(readdirSync(dir)).toEqual([path.basename(file)]);
    const run = await tdb.db
      .selectFrom('runs')
      .select('report_path')
      .where('id', '=', seeded.runId)
      .executeTakeFirstOrThrow();
    expect(run.report_path).toBe(file);
  });

  it('has the eight sheets in order, each with a frozen, filtered header row', () => {
    expect(wb.worksheets.map((w) => w.name)).toEqual(SHEETS);
    for (const ws of wb.worksheets) {
      expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
      expect(ws.autoFilter).toMatch(/^A1:[A-Z]+\d+$/);
      expect(ws.getRow(1).font?.bold).toBe(true);
      for (let c = 1; c <= ws.columnCount; c++) {
        const header = ws.getRow(1).getCell(c).text;
        expect(ws.getColumn(c).width, `${ws.name}: ${header}`).toBeGreaterThanOrEqual(header.length);
      }
    }
  });

  it('writes the Discrepancies columns exactly, with typed cells and formats', () => {
    const ws = sheet('Discrepancies');
    expect(rowValues(ws, 1)).toEqual(DISCREPANCY_COLUMNS);
    expect(ws.autoFilter).toBe('A1:Q6');
    const rows = records(ws);
    expect(rows.map((r) => r['Discrepancy ID']!.value)).toEqual([
      'D000000000000001',
      'D000000000000005',
      'D000000000000004',
      'D000000000000003',
      'D000000000000002',
    ]);
    const [amount, fee, missing, kwd, jpy] = rows as [
      (typeof rows)[0],
      (typeof rows)[0],
      (typeof rows)[0],
      (typeof rows)[0],
      (typeof rows)[0],
    ];

    // EUR: two decimals; dates are real dates; age counts business days to the as-of date (holiday 18th skipped)
    expect(amount['Gateway amount']!.value).toBe(92);
    expect(amount['Settled amount']!.value).toBe(93);
    expect(amount['Difference']!.value).toBe(1);
    expect(amount['Difference']!.numFmt).toBe('#,##0.00');
    expect(amount['Transaction date']!.value).toEqual(new Date('2026-11-16T00:00:00Z'));
    expect(amount['Transaction date']!.numFmt).toBe('yyyy-mm-dd');
    expect(amount['Settlement date']!.value).toEqual(new Date('2026-11-19T00:00:00Z'));
    expect(amount['Age (business days)']!.value).toBe(4);
    expect(amount['Aging bucket']!.value).toBe('4-7');
    expect(amount['Suggested action']!.value).toBe('REFUND');
    expect(amount['Detail']!.value).toBe('settled 1.00 more; refund planned: 1.00 EUR');
    expect(amount['Action']!.value).toBeNull();
    expect(fee['Age (business days)']!.value).toBe(2);
    expect(fee['Aging bucket']!.value).toBe('2-3');
    expect(fee['Suggested action']!.value).toBe('INVESTIGATE');
    expect(fee['Difference']!.value).toBe(-0.25);
    expect(missing['Age (business days)']!.value).toBe(11);
    expect(missing['Aging bucket']!.value).toBe('8+');
    expect(missing['Settled amount']!.value).toBeNull();
    expect(missing['Settlement date']!.value).toBeNull();

    // 19-digit ids are text, intact; KWD has three decimals, JPY none
    expect(kwd['Transaction ID']!.type).toBe(ExcelJS.ValueType.String);
    expect(kwd['Transaction ID']!.value).toBe(LONG_ID_2);
    expect(kwd['Settled amount']!.value).toBe(1.234);
    expect(kwd['Settled amount']!.numFmt).toBe('#,##0.000');
    expect(kwd['Transaction date']!.value).toBeNull();
    expect(kwd['Age (business days)']!.value).toBe(2); // from the settlement date, no transaction time
    expect(jpy['Transaction ID']!.value).toBe(LONG_ID);
    expect(jpy['Payment ID']!.value).toBe(LONG_ID);
    expect(jpy['Settled amount']!.value).toBe(5000);
    expect(jpy['Settled amount']!.numFmt).toBe('#,##0');
    expect(jpy['Aging bucket']!.value).toBe('0-1');
    expect(jpy['Suggested action']!.value).toBe('REFUNDED');
  });

  it('makes the Discrepancies id and reference columns as wide as their longest value', () => {
    const ws = sheet('Discrepancies');
    for (const c of [4, 5, 6]) {
      let longest = 0;
      for (let r = 2; r <= ws.rowCount; r++) longest = Math.max(longest, ws.getRow(r).getCell(c).text.length);
      expect(ws.getColumn(c).width, ws.getRow(1).getCell(c).text).toBeGreaterThanOrEqual(longest);
    }
    expect(ws.getColumn(6).width).toBeGreaterThan(40); // the 41-character formula-looking reference
  });

  it('offers REFUND, IGNORE, INVESTIGATE in the Action column of every row', () => {
    const ws = sheet('Discrepancies');
    for (let r = 2; r <= 6; r++) {
      expect(ws.getCell(`Q${r}`).dataValidation).toMatchObject({
        type: 'list',
        formulae: ['"REFUND,IGNORE,INVESTIGATE"'],
      });
    }
    expect(ws.getCell('P2').dataValidation).toBeUndefined();
  });

  it('never turns text from input data into a formula', () => {
    const texts = new Map<string, ExcelJS.Cell>();
    for (const ws of wb.worksheets) {
      ws.eachRow((row) =>
        row.eachCell((cell) => {
          if (typeof cell.value === 'string') texts.set(cell.value, cell);
          expect(cell.type, `${ws.name}!${cell.address}`).not.toBe(ExcelJS.ValueType.Formula);
          expect(cell.formula, `${ws.name}!${cell.address}`).toBeUndefined();
        }),
      );
    }
    for (const text of [...INJECTIONS, '@aw2']) {
      expect(texts.get(text)?.type, text).toBe(ExcelJS.ValueType.String);
    }
    const rejected = records(sheet('Rejected lines')).find((r) => r['Line']!.value === 6)!;
    expect(rejected['Raw text (masked)']!.value).toBe(
      '2026-11-19;B1;SETTLED;x;;=cmd|calc;DB;card 411111******1111;EUR;12,3;0;0',
    );
  });
});

describe('the Summary', () => {
  type Fig = { count: unknown; amount: unknown; detail: unknown };
  let figs: Map<string, Fig>;
  beforeAll(() => {
    figs = new Map();
    for (const r of records(sheet('Summary'))) {
      const key = [r['Provider']!.text, r['Currency']!.text, r['Section']!.text, r['Item']!.text].join('|');
      figs.set(key, { count: r['Count']!.value, amount: r['Amount']!.value, detail: r['Detail']!.value });
    }
  });
  const fig = (key: string) => {
    const f = figs.get(key);
    if (!f) throw new Error(`no Summary row ${key}; have ${[...figs.keys()].join(', ')}`);
    return f;
  };

  it('gives gateway and settlement figures per provider and currency', () => {
    // abc 92.00, rf1 −10.00, cb1 −92.00 (valued from its payment), cr2 +92.00 (in range in Berlin); not cr1 (a day
    // later in Berlin), not the pending payment, not the reversed one
    expect(fig('payunity|EUR|Gateway|Money movements')).toMatchObject({ count: 4, amount: 82 });
    expect(fig('payunity|EUR|Settlement|Settled lines')).toMatchObject({ count: 3, amount: 58 });
    expect(fig('payunity|EUR|Settlement|Fee and adjustment lines')).toMatchObject({ count: 1, amount: 0 });
    expect(fig('payunity|EUR|Matching|Matched lines')).toMatchObject({ count: 3, amount: 58 });
    expect(fig('payunity|EUR|Chargebacks|Chargebacks')).toMatchObject({ count: 1, amount: -92 });
    expect(fig('payunity|EUR|Chargebacks|Chargeback reversals')).toMatchObject({ count: 1, amount: 92 });
    expect(fig('useepay|JPY|Gateway|Money movements')).toMatchObject({ count: 1, amount: 3000 });
    expect(fig('useepay|JPY|Matching|Matched lines')).toMatchObject({ count: 1, amount: 5000 });
  });

  it('has control totals that tie to the settlement lines in the database', async () => {
    const { rows } = await tdb.pool.query<{
      provider: string;
      currency: string;
      gross: string;
      fees: string;
      net: string;
      n: string;
    }>(
      `select provider, currency, sum(gross_minor) gross, sum(fee_minor) fees, sum(net_minor) net, count(*) n from settlement_lines group by 1, 2`,
    );
    expect(rows).toHaveLength(3);
    const exp: Record<string, number> = { EUR: 100, JPY: 1, KWD: 1000 };
    for (const r of rows) {
      const k = `${r.provider}|${r.currency}|Settlement|`;
      expect(fig(k + 'Gross')).toMatchObject({
        count: Number(r.n),
        amount: Number(r.gross) / exp[r.currency]!,
      });
      expect(fig(k + 'Fees').amount).toBe(Number(r.fees) / exp[r.currency]!);
      expect(fig(k + 'Net').amount).toBe(Number(r.net) / exp[r.currency]!);
    }
    expect(fig('payunity|EUR|Settlement|Net').amount).toBe(25.3); // 58.00 − 32.70
  });

  it('has discrepancy and awaiting totals that tie to the rows of their sheets', () => {
    const sums = new Map<string, { count: number; amount: number }>();
    for (const r of records(sheet('Discrepancies'))) {
      const key = `${r['Provider']!.text}|${r['Currency']!.text}|Discrepancies|${r['Type']!.text}`;
      const s = sums.get(key) ?? { count: 0, amount: 0 };
      sums.set(key, { count: s.count + 1, amount: s.amount + Number(r['Difference']!.value) });
    }
    expect(sums.size).toBe(5);
    for (const [key, s] of sums) expect(fig(key)).toMatchObject({ count: s.count, amount: s.amount });
    expect([...figs.keys()].filter((k) => k.includes('|Discrepancies|'))).toHaveLength(5);

    for (const r of records(sheet('Awaiting settlement'))) {
      expect(
        fig(`${r['Provider']!.text}|${r['Currency']!.text}|Awaiting settlement|Inside the settlement lag`),
      ).toMatchObject({ count: 1, amount: r['Amount']!.value });
    }
  });

  it('checks every batch and lists late files from the manifest', () => {
    expect(fig('payunity|EUR|Batch check|Batches')).toMatchObject({
      count: 1,
      detail: 'mismatch: 1 of 1 batches',
    });
    expect(String(fig('payunity|EUR|Batch check|B1').detail)).toContain('1 rejected line(s)');
    expect(fig('useepay|JPY|Batch check|Batches')).toMatchObject({
      count: 1,
      detail: expect.stringMatching(/^ok/),
    });
    expect(fig('useepay|KWD|Batch check|Batches').detail).toMatch(/^ok/);
    expect(String(fig('payunity||Settlement files|late or missing: 2026-11-20').detail)).toContain(
      'expected by 2026-11-20T12:00:00+01:00',
    );
  });
});

describe('the other sheets', () => {
  it('lists awaiting movements with real times in the configured zone', () => {
    const rows = records(sheet('Awaiting settlement'));
    expect(rows.map((r) => r['Transaction ID']!.value)).toEqual(['aw1', 'aw2']);
    expect(rows[0]!['Transaction time']!.value).toEqual(new Date('2026-11-20T16:00:00Z')); // 15:00Z is 16:00 in Berlin
    expect(rows[0]!['Transaction time']!.numFmt).toBe('yyyy-mm-dd hh:mm:ss');
    expect(rows[0]!['Expected by']!.value).toEqual(new Date('2026-11-25T00:00:00Z'));
    expect(rows[1]!['Amount']!.value).toBe(-300);
    // Inside the lag there is nothing to explain: Detail (the last column) is empty.
    expect(rowValues(sheet('Awaiting settlement'), 1).at(-1)).toBe('Detail');
    expect(rows.map((r) => r['Detail']!.value)).toEqual([null, null]);
  });

  it('lists chargebacks whether or not they settled', () => {
    const rows = records(sheet('Chargebacks')).map((r) => [
      r['Transaction ID']!.value,
      r['Gateway amount']!.value,
      r['Settled amount']!.value,
      r['Settled']!.value,
    ]);
    expect(rows).toEqual([
      ['cr2', 92, null, 'no'],
      ['cb1', -92, -25, 'yes'],
      ['cbx', null, -700, 'no gateway record'],
    ]);
  });

  it('shows the refund plan, rejected lines and files, and the changes since the previous run over the same dates', () => {
    const refunds = records(sheet('Refund plan'));
    expect(
      refunds.map((r) => [
        r['Discrepancy ID']!.value,
        r['State']!.value,
        r['Amount']!.value,
        r['Payment ID']!.value,
      ]),
    ).toEqual([
      ['D000000000000001', 'planned', 1, 'abc'],
      ['D000000000000002', 'succeeded', 5000, LONG_ID],
    ]);
    expect(records(sheet('Rejected lines')).map((r) => [r['Line']!.value, r['Reason']!.value])).toEqual([
      [6, 'bad amount "12,3"'],
      [null, 'whole file rejected: not a gzip file'],
    ]);
    const changes = records(sheet('Changes')).map((r) => [r['Change']!.value, r['Discrepancy ID']!.value]);
    expect(changes).toEqual([
      ['opened', 'D000000000000001'],
      ['opened', 'D000000000000005'],
      ['opened', 'D000000000000003'],
      ['opened', 'D000000000000002'],
      ['closed', 'D000000000000006'],
    ]);
    const closed = records(sheet('Changes')).at(-1)!;
    expect(closed['Reason / detail']!.value).toBe('settled late on 2026-11-21');
    expect(closed['Compared with run']!.value).toBe(String(seeded.prevRunId));
  });

  it('names the settlement line a refund was found in, and leaves the cell empty until then', async () => {
    expect(records(sheet('Refund plan')).map((r) => r['Settled in']!.value)).toEqual([null, null]);
    // The next run's check of executed refunds found refund rf1's line for the refund of D…002.
    await sql`update refund_actions set settled_line_id = (select id from settlement_lines where transaction_id = 'rf1')
      where discrepancy_id = 'D000000000000002'`.execute(tdb.db);
    try {
      const again = new ExcelJS.Workbook();
      await again.xlsx.readFile(
        await writeReport(stageContext(tdb, testConfig(tmpReportsDir())), seeded.runId),
      );
      const refunds = records(again.getWorksheet('Refund plan')!);
      expect(refunds.map((r) => r['Settled in']!.value)).toEqual([
        null,
        expect.stringMatching(/^refund line 3 of .+, settled 2026-11-\d\d$/),
      ]);
    } finally {
      await sql`update refund_actions set settled_line_id = null where discrepancy_id = 'D000000000000002'`.execute(
        tdb.db,
      );
    }
  });

  it("says on a refund's row that the run found it overdue: sent, past the lag, in no settlement file", async () => {
    const { rows } = await sql<{ id: number; discrepancy_id: string }>`
      select id, discrepancy_id from refund_actions order by planned_at, id`.execute(tdb.db);
    const overdue = rows[0]!;
    const before = (
      await sql<{ manifest: unknown }>`select manifest from runs where id = ${seeded.runId}`.execute(tdb.db)
    ).rows[0]!.manifest;
    // What the run's check of executed refunds recorded in its manifest (Run info's refundChecks).
    await sql`update runs set manifest = jsonb_set(manifest, '{refundChecks}', ${JSON.stringify({
      settled: 0,
      overdue: [{ actionId: overdue.id, provider: 'payunity', dueBy: '2026-11-18' }],
    })}::jsonb) where id = ${seeded.runId}`.execute(tdb.db);
    try {
      const again = new ExcelJS.Workbook();
      await again.xlsx.readFile(
        await writeReport(stageContext(tdb, testConfig(tmpReportsDir())), seeded.runId),
      );
      const refunds = records(again.getWorksheet('Refund plan')!);
      expect(refunds.map((r) => [r['Discrepancy ID']!.value, r['Settled in']!.value])).toEqual([
        [overdue.discrepancy_id, 'overdue: in no settlement file, due by 2026-11-18'],
        [rows[1]!.discrepancy_id, null],
      ]);
    } finally {
      await sql`update runs set manifest = ${JSON.stringify(before)}::jsonb where id = ${seeded.runId}`.execute(
        tdb.db,
      );
    }
  });

  it('records the run, its input files and API windows, and the rest of the manifest', () => {
    const rows = records(sheet('Run info'));
    const item = (section: string, name: string) =>
      rows.find((r) => r['Section']!.value === section && r['Item']!.value === name);
    expect(item('Run', 'Run ID')!['Value']!.value).toBe(String(seeded.runId));
    expect(item('Run', 'Started (Europe/Berlin)')!['Value']!.value).toEqual(new Date('2026-11-23T07:00:00Z'));
    const files = rows.filter((r) => r['Section']!.value === 'Input file');
    expect(files).toHaveLength(3);
    expect(files[0]!['SHA-256']!.value).toMatch(/^[0-9a-f]{64}$/);
    expect(files.map((f) => [f['Lines']!.value, f['Loaded']!.value, f['Rejected']!.value])).toContainEqual([
      5, 4, 1,
    ]);
    const windows = rows.filter((r) => r['Section']!.value === 'API window');
    expect(windows.map((w) => [w['Item']!.value, w['Records']!.value])).toEqual([
      ['query', 6],
      ['payment_intents', 2],
    ]);
    expect(item('Manifest', 'stageTimings.fetch')!['Value']!.value).toBe('1200');
    expect(item('Counts', 'matched')!['Value']!.value).toBe(4);
    expect(item('Counts', 'discrepancies.amount_mismatch')!['Value']!.value).toBe(1);
    expect(rows.some((r) => r['Item']!.text.startsWith('files'))).toBe(false);
  });
});

describe('row limit', () => {
  it('continues a sheet in "<name> (2)" past the limit, keeping the order, headers and drop-downs', async () => {
    const small = tmpReportsDir();
    const result = await writeReportDetailed(stageContext(tdb, testConfig(small)), seeded.runId, {
      maxRowsPerSheet: 3,
      batchSize: 2,
    });
    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(result.path);
    const names = book.worksheets.map((w) => w.name);
    const base = names.map((n) => n.replace(/ \(\d+\)$/, ''));
    expect(base.filter((n, i) => n !== base[i - 1])).toEqual(SHEETS);
    expect(names.filter((n) => n.startsWith('Discrepancies'))).toEqual([
      'Discrepancies',
      'Discrepancies (2)',
      'Discrepancies (3)',
    ]);
    const ids: unknown[] = [];
    for (const n of ['Discrepancies', 'Discrepancies (2)', 'Discrepancies (3)']) {
      const ws = book.getWorksheet(n)!;
      expect(ws.getCell('A1').value).toBe('Discrepancy ID');
      expect(ws.rowCount).toBeLessThanOrEqual(3);
      for (let r = 2; r <= ws.rowCount; r++) {
        ids.push(ws.getCell(`A${r}`).value);
        expect(ws.getCell(`Q${r}`).dataValidation?.type).toBe('list');
      }
    }
    expect(ids).toHaveLength(5);
    expect(result.rows.Discrepancies).toBe(5);
  });
});

describe('edge cases', () => {
  it('writes every sheet, header only, for a run that found nothing', async () => {
    const { rows } = await tdb.pool.query<{ id: number }>(
      `insert into runs (command, from_date, to_date, providers, status, tool_version) values ('run', '2026-10-01', '2026-10-01', '{useepay}', 'succeeded', '0.1.0') returning id`,
    );
    const empty = tmpReportsDir();
    const out = await writeReport(stageContext(tdb, testConfig(empty)), rows[0]!.id);
    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(out);
    expect(book.worksheets.map((w) => w.name)).toEqual(SHEETS);
    // Every sheet of rows is empty; Summary and Run info still describe the run.
    for (const name of SHEETS.filter((n) => n !== 'Summary' && n !== 'Run info')) {
      const ws = book.getWorksheet(name)!;
      expect(ws.actualRowCount, name).toBe(1);
      expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    }
    expect(book.getWorksheet('Discrepancies')!.getCell('A1').value).toBe('Discrepancy ID');
    // The Summary says so rather than showing nothing.
    expect(rowValues(book.getWorksheet('Summary')!, 2).slice(0, 5)).toEqual([
      'useepay',
      undefined,
      'Gateway',
      'No activity',
      0,
    ]);
  });

  it('leaves the previous workbook in place, and no temporary file, when a rewrite fails', async () => {
    const before = readdirSync(dir);
    const ac = new AbortController();
    ac.abort(new Error('stopped by test'));
    const ctx = { ...stageContext(tdb, testConfig(dir)), signal: ac.signal };
    await expect(writeReport(ctx, seeded.runId)).rejects.toThrow('stopped by test');
    expect(readdirSync(dir)).toEqual(before);
    const again = new ExcelJS.Workbook();
    await again.xlsx.readFile(file);
    expect(again.worksheets).toHaveLength(8);
  });

  it('removes a workbook a killed process left half-written, and no temporary file still being written', async () => {
    const out = tmpReportsDir();
    const abandoned = `.payrecon_2026-11-01_2026-11-01_run-7.xlsx.4242.1790000000000.tmp`;
    const writing = `.payrecon_2026-11-01_2026-11-01_run-8.xlsx.4243.1790000000000.tmp`;
    const finance = '.finance-notes.tmp';
    for (const name of [abandoned, writing, finance]) writeFileSync(path.join(out, name), 'PK');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    for (const name of [abandoned, finance]) utimesSync(path.join(out, name), twoHoursAgo, twoHoursAgo);
    const written = await writeReport(stageContext(tdb, testConfig(out)), seeded.runId);
    expect(readdirSync(out).sort()).toEqual([finance, writing, path.basename(written)].sort());
  });

  it('fails cleanly, without hanging or crashing, when the workbook file cannot be written', async () => {
    const blocked = tmpReportsDir();
    const ctx = stageContext(tdb, testConfig(blocked));
    // The temporary name is predictable with a pinned clock: a directory there makes opening it fail (EISDIR).
    const name = `.payrecon_2026-11-19_2026-11-20_run-${seeded.runId}.xlsx.${process.pid}.${ctx.now().getTime()}.tmp`;
    mkdirSync(path.join(blocked, name));
    await expect(writeReport(ctx, seeded.runId)).rejects.toThrow(
      `cannot write the workbook ${path.join(blocked, name.slice(1, name.indexOf('.xlsx') + 5))}: EISDIR`,
    );
    expect(readdirSync(blocked)).toEqual([name]);
  });

  it('names the reports folder when it cannot be made', async () => {
    const parent = tmpReportsDir();
    writeFileSync(path.join(parent, 'file'), 'not a folder');
    const dirUnderFile = path.join(parent, 'file', 'reports');
    await expect(writeReport(stageContext(tdb, testConfig(dirUnderFile)), seeded.runId)).rejects.toThrow(
      `cannot write the reports folder ${dirUnderFile}: ENOTDIR`,
    );
  });

  it('stops inside a long sheet when the run is interrupted, leaving no temporary file', async () => {
    const { rows } = await tdb.pool.query<{ id: number }>(
      `insert into runs (command, from_date, to_date, providers, status, tool_version) values ('run', '2026-09-01', '2026-09-30', '{useepay}', 'succeeded', '0.1.0') returning id`,
    );
    const runId = rows[0]!.id;
    await tdb.pool.query(
      `insert into discrepancies (id, provider, type, transaction_id, currency, detail) select 'DLONG' || i, 'useepay', 'missing_in_gateway', 'long' || i, 'EUR', '' from generate_series(1, 1100) i;
       insert into run_discrepancies select ${runId}, 'DLONG' || i, 'opened' from generate_series(1, 1100) i`,
    );
    // A signal that trips on its second look inside the sheet writer (which looks every 512 rows).
    let looks = 0;
    const signal = {
      aborted: false,
      reason: undefined,
      throwIfAborted: () => {
        if (++looks > 1) throw new Error('interrupted at row 1024');
      },
    } as unknown as AbortSignal;
    const out = tmpReportsDir();
    await expect(writeReport({ ...stageContext(tdb, testConfig(out)), signal }, runId)).rejects.toThrow(
      'interrupted at row 1024',
    );
    expect(looks).toBe(2);
    expect(readdirSync(out)).toEqual([]);
  });

  it('refuses a run that does not exist', async () => {
    await expect(writeReport(stageContext(tdb, testConfig(tmpReportsDir())), 987654)).rejects.toThrow(
      /run 987654 does not exist/,
    );
  });
});
