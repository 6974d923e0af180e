// LibreOffice opens the workbook: every sheet converts to CSV (values as displayed, so formats are checked too) and
// the workbook prints to PDF without a single "###" (a column too narrow for its number or date).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../../src/report/index.js';
import { testDbPerSuite } from '../helpers/db.js';
import { requireSoffice, sofficeConvert } from '../helpers/soffice.js';
import {
  DISCREPANCY_COLUMNS,
  LONG_ID,
  LONG_ID_2,
  seed,
  stageContext,
  testConfig,
  tmpReportsDir,
} from './fixture.js';

const soffice = requireSoffice('LibreOffice report tests');

let file: string;
let out: string;

const convert = (to: string) => sofficeConvert(soffice!, file, to, out);

function csv(sheet: string): string[][] {
  const text = readFileSync(path.join(out, `${path.basename(file, '.xlsx')}-${sheet}.csv`), 'utf8');
  return text.trimEnd().split('\n').map(parseCsvLine);
}

function parseCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted && ch === '"' && line[i + 1] === '"') {
      cur += '"';
      i++;
    } else if (ch === '"') {
      quoted = !quoted;
    } else if (!quoted && ch === ',') {
      cells.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  cells.push(cur);
  return cells;
}

describe.skipIf(!soffice)('LibreOffice', () => {
  const tdb = testDbPerSuite();
  beforeAll(async () => {
    const { runId } = await seed(tdb.pool);
    file = await writeReport(stageContext(tdb, testConfig(tmpReportsDir())), runId);
    out = mkdtempSync(path.join(os.tmpdir(), 'payrecon-soffice-'));
  });
  afterAll(() => {
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('converts every sheet to CSV with the values and formats finance sees', async () => {
    // Filter options: comma, double quote, UTF-8, from line 1, …, "save cell contents as shown", no formulas, all sheets (-1).
    await convert('csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1');
    const sheets = readdirSync(out)
      .filter((f) => f.endsWith('.csv'))
      .map((f) => f.slice(path.basename(file, '.xlsx').length + 1, -4));
    expect(sheets.sort()).toEqual([
      'Awaiting settlement',
      'Changes',
      'Chargebacks',
      'Discrepancies',
      'Refund plan',
      'Rejected lines',
      'Run info',
      'Summary',
    ]);

    const disc = csv('Discrepancies');
    expect(disc[0]).toEqual(DISCREPANCY_COLUMNS);
    const byId = new Map(disc.slice(1).map((r) => [r[0], r]));
    // Text that looks like a formula arrives as the same text: had it been a formula, LibreOffice would show its result.
    expect(byId.get('D000000000000001')).toEqual([
      'D000000000000001',
      'payunity',
      'amount_mismatch',
      'abc',
      'abc',
      '=HYPERLINK("http://evil.example","click")',
      '2026-11-16',
      '2026-11-19',
      'EUR',
      '92.00',
      '93.00',
      '1.00',
      '4',
      '4-7',
      'settled 1.00 more; refund planned: 1.00 EUR',
      'REFUND',
      '',
    ]);
    expect(byId.get('D000000000000002')!.slice(3, 12)).toEqual([
      LONG_ID,
      LONG_ID,
      '+SUM(A1:A2)',
      '2026-11-20',
      '2026-11-19',
      'JPY',
      '5,000',
      '5,000',
      '0',
    ]);
    expect(byId.get('D000000000000003')!.slice(3, 15)).toEqual([
      LONG_ID_2,
      LONG_ID_2,
      '-2+3',
      '',
      '2026-11-19',
      'KWD',
      '',
      '1.234',
      '1.234',
      '2',
      '2-3',
      '@SUM(1,1)',
    ]);

    const summary = csv('Summary');
    expect(summary).toContainEqual([
      'payunity',
      'EUR',
      'Settlement',
      'Net',
      '4',
      '25.30',
      'all lines: gross − fees',
    ]);
    expect(csv('Awaiting settlement')[1]).toEqual([
      'payunity',
      'payment',
      'aw1',
      'DB',
      'ORD-aw1',
      '2026-11-20 16:00:00',
      'EUR',
      '42.00',
      '2026-11-25',
      '',
    ]);
    expect(csv('Rejected lines')[1]![5]).toContain('411111******1111');
  });

  it('opens with a filter on every sheet (LibreOffice reads it only with its defined name)', async () => {
    await convert('fods');
    const flat = readFileSync(path.join(out, `${path.basename(file, '.xlsx')}.fods`), 'utf8');
    const ranges = [...flat.matchAll(/<table:database-range [^>]*>/g)].map((m) => m[0]);
    const filtered = ranges.filter((r) => r.includes('table:display-filter-buttons="true"'));
    const sheets = [...flat.matchAll(/<table:table table:name="([^"]+)"/g)].map((m) => m[1]);
    expect(sheets).toHaveLength(8);
    expect(filtered).toHaveLength(sheets.length);
    expect(filtered.join(' ')).toContain('table:target-range-address="Discrepancies.A1:Discrepancies.Q6"');
  });

  it('prints to PDF without "###" anywhere', async () => {
    await convert('pdf');
    const pdf = path.join(out, `${path.basename(file, '.xlsx')}.pdf`);
    const { stdout } = await promisify(execFile)('pdftotext', ['-layout', pdf, '-']);
    expect(stdout).toContain('Discrepancy ID');
    expect(stdout).toContain(LONG_ID);
    expect(stdout).not.toMatch(/###/);
  });
});
