// Finance's decisions: the Action column of the real report, edited as finance edits it, imported by the real CLI
// (a subprocess), recorded with where each came from, and shown again in the run's next workbook.
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { importDecisions } from '../../src/decisions/index.js';
import { readApprovalWorkbook } from '../../src/report/approval-reader.js';
import { writeReport } from '../../src/report/index.js';
import { UsageError } from '../../src/shared/errors.js';
import { runCli } from '../helpers/cli.js';
import { testDbPerSuite } from '../helpers/db.js';
import { requireSoffice, sofficeConvert } from '../helpers/soffice.js';
import { stageContext } from '../refunds/fixtures.js';
import { editedCopy } from '../refunds/workbook.js';
import { startWorld, type World } from '../refunds/world.js';

const db = testDbPerSuite();
let dir: string;
let w: World;
let cfg: string;
let report: string;

const NOW = '2026-11-21T09:30:00Z';
const soffice = requireSoffice('the decisions test of a workbook saved by LibreOffice');

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'payrecon-decisions-'));
  w = await startWorld(db, [{ amountMinor: 2500 }, { amountMinor: 4000 }, { amountMinor: 990 }], {
    plan: false,
  });
  w.config.reports.dir = dir;
  cfg = path.join(dir, 'payrecon.config.yaml');
  await writeFile(cfg, stringify({ ...w.raw, reports: { dir } }));
  // The CLI's `report` below rewrites the run's workbook in place: the tests edit this untouched copy.
  report = path.join(dir, 'original.xlsx');
  await copyFile(await writeReport(stageContext(db, w.config, w.runId), w.runId), report);
});
afterAll(async () => {
  await w.close();
  await rm(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) =>
  runCli([...args, '--config', cfg], { env: { PAYRECON_CONFIG: undefined, PAYRECON_NOW: NOW } });

/** A copy of `from` with these Actions chosen, as finance saves it. */
const withActions = (from: string, name: string, actions: [string, string][]) =>
  editedCopy(from, path.join(dir, name), {
    refund: [],
    set: actions.map(([id, value]) => ({ id, header: 'Action', value })),
  });

interface SheetRow {
  provider: string;
  currency: string;
  difference: number;
  action: string;
  suggested: string;
  detail: string;
}

/** A sheet's rows as header → cell, read as finance's spreadsheet shows them. */
async function sheetRows(file: string, name: string): Promise<Map<string, ExcelJS.Cell>[]> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  const sheet = wb.getWorksheet(name)!;
  const headers: [string, number][] = [];
  sheet.getRow(1).eachCell((c, n) => headers.push([c.text, n]));
  const out: Map<string, ExcelJS.Cell>[] = [];
  sheet.eachRow((r, n) => {
    if (n > 1) out.push(new Map(headers.map(([h, i]) => [h, r.getCell(i)])));
  });
  return out;
}

/** Each Discrepancies row's figures, Action and Detail, by discrepancy id. */
async function rowsOf(file: string): Promise<Map<string, SheetRow>> {
  const out = new Map<string, SheetRow>();
  for (const r of await sheetRows(file, 'Discrepancies')) {
    out.set(r.get('Discrepancy ID')!.text, {
      provider: r.get('Provider')!.text,
      currency: r.get('Currency')!.text,
      difference: Number(r.get('Difference')!.value),
      action: r.get('Action')!.text,
      suggested: r.get('Suggested action')!.text,
      detail: r.get('Detail')!.text,
    });
  }
  return out;
}

/** The Summary's figures by "provider|currency|section|item". */
async function summaryOf(file: string): Promise<Map<string, { count: number; amount: number }>> {
  const out = new Map<string, { count: number; amount: number }>();
  for (const r of await sheetRows(file, 'Summary')) {
    const key = ['Provider', 'Currency', 'Section', 'Item'].map((h) => r.get(h)!.text).join('|');
    out.set(key, { count: Number(r.get('Count')!.value), amount: Number(r.get('Amount')!.value) });
  }
  return out;
}

const decisions = () =>
  db.db
    .selectFrom('discrepancy_decisions')
    .select(['discrepancy_id', 'action', 'source_file', 'source_sha256', 'sheet', 'row_no'])
    .orderBy('id')
    .execute();

describe('payrecon decisions import', () => {
  it('records each Action with its workbook, row and digest; a second import records nothing', async () => {
    const [a, b, c] = w.ids as [string, string, string];
    const file = await withActions(report, 'first.xlsx', [
      [a, 'IGNORE'],
      [b, 'investigate '],
      [c, 'REFUND'],
    ]);
    // The refund executor still reads only the REFUND row of such a workbook.
    expect((await readApprovalWorkbook(file)).rows.map((r) => r.discrepancyId)).toEqual([c]);

    const first = await cli('decisions', 'import', file, '--json');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const sha = createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
    expect(JSON.parse(first.stdout)).toEqual({
      file,
      sha256: sha,
      decisionsShownUpTo: 0,
      rows: 3,
      recorded: { REFUND: 1, IGNORE: 1, INVESTIGATE: 1 },
      withdrawn: 0,
      unchanged: 0,
      closed: 0,
      neverRefunded: [],
      replaced: [],
      changedFigures: [],
      keptNewer: [],
    });
    const rows = await decisions();
    expect(rows.map((r) => [r.discrepancy_id, r.action]).sort()).toEqual(
      [
        [a, 'IGNORE'],
        [b, 'INVESTIGATE'],
        [c, 'REFUND'],
      ].sort(),
    );
    expect(rows.every((r) => r.source_file === 'first.xlsx' && r.source_sha256 === sha)).toBe(true);
    expect(rows.every((r) => r.sheet === 'Discrepancies' && r.row_no >= 2)).toBe(true);

    const again = await cli('decisions', 'import', file);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('3 row(s) with an Action; recorded 0 decision(s), 3 already so');
    expect(await decisions()).toHaveLength(3);
  });

  it("shows IGNORE and INVESTIGATE again in the run's next workbook, never REFUND", async () => {
    const [a, b, c] = w.ids as [string, string, string];
    // The world's duplicate charges settled in full (difference 0): give two a difference for the Summary to sum.
    await db.pool.query(
      `update discrepancies set difference_minor = v.d from (values ($1, -2500), ($2, 1234)) v(id, d) where discrepancies.id = v.id`,
      [a, b],
    );
    const rewritten = await cli('report', '--run', String(w.runId), '--json');
    expect(rewritten.code).toBe(0);
    const { reportPath } = JSON.parse(rewritten.stdout) as { reportPath: string };
    const rows = await rowsOf(reportPath);
    expect(rows.get(a)).toMatchObject({ action: 'IGNORE' });
    expect(rows.get(a)?.detail).toContain('decided IGNORE on 2026-11-21');
    expect(rows.get(b)).toMatchObject({ action: 'INVESTIGATE' });
    expect(rows.get(c)?.action).toBe('');
    expect(rows.get(c)?.detail).toContain('decided REFUND on 2026-11-21');
    // Each is a duplicate charge with something left to refund: the one decided IGNORE suggests no refund.
    expect([a, b, c].map((id) => rows.get(id)?.suggested)).toEqual(['IGNORE', 'REFUND', 'REFUND']);

    // The Summary counts the decided ones, tied to their rows; a REFUND is the Refund plan's to show.
    const summary = await summaryOf(reportPath);
    for (const [id, action] of [
      [a, 'IGNORE'],
      [b, 'INVESTIGATE'],
    ] as const) {
      const r = rows.get(id)!;
      expect(r.difference).not.toBe(0);
      expect(summary.get(`${r.provider}|${r.currency}|Discrepancies|decided ${action}`)).toEqual({
        count: 1,
        amount: r.difference,
      });
    }
    expect([...summary.keys()].filter((k) => k.includes('|decided '))).toHaveLength(2);
  });

  it('a change is recorded, a carried Action is not; an older workbook overrules a newer decision only when told to', async () => {
    const [a, b] = w.ids as [string, string];
    const next = await writeReport(stageContext(db, w.config, w.runId), w.runId);
    const changed = await withActions(next, 'second.xlsx', [[a, 'INVESTIGATE']]);
    const result = await importDecisions(db.db, changed, new Date(NOW));
    // a changed; b kept the INVESTIGATE the report carried; the REFUND row came back empty
    expect(result).toMatchObject({
      rows: 2,
      recorded: { IGNORE: 0, INVESTIGATE: 1, REFUND: 0 },
      unchanged: 1,
    });
    const latest = async (id: string) => (await decisions()).filter((r) => r.discrepancy_id === id).at(-1);
    expect(await latest(a)).toMatchObject({ action: 'INVESTIGATE', source_file: 'second.xlsx' });
    expect(await latest(b)).toMatchObject({ action: 'INVESTIGATE', source_file: 'first.xlsx' });

    // Importing the older workbook again would make its Actions the decisions again, over one recorded after it was
    // written, on figures that have changed since: refused, naming both, until asked for.
    const first = path.join(dir, 'first.xlsx');
    const before = await decisions();
    await expect(importDecisions(db.db, first, new Date(NOW))).rejects.toThrow(
      new RegExp(
        `^decisions refused, nothing was recorded: Discrepancies row \\d+ \\(${a}\\): IGNORE would overrule INVESTIGATE, recorded from second\\.xlsx at 2026-11-21T09:30:00Z after this workbook was written; Discrepancies row \\d+ \\(${a}\\): IGNORE decided on figures that changed since: Difference 0 differs from the database \\(-25\\.00\\)\\. .*--overrule-newer`,
      ),
    );
    expect(await decisions()).toEqual(before);
    const overruled = await importDecisions(db.db, first, new Date(NOW), {
      overruleNewer: true,
      acceptChangedFigures: true,
    });
    expect(await latest(a)).toMatchObject({ action: 'IGNORE', source_file: 'first.xlsx' });
    expect(overruled.replaced).toEqual([
      {
        discrepancyId: a,
        sheet: 'Discrepancies',
        row: expect.any(Number) as number,
        from: { action: 'INVESTIGATE', file: 'second.xlsx', decidedAt: '2026-11-21T09:30:00Z' },
        to: 'IGNORE',
        newer: true,
      },
    ]);
  });

  it('refuses the whole workbook over an unknown Action, an unknown or missing id or a repeated id, naming each row', async () => {
    const [a, b] = w.ids as [string, string];
    const before = await decisions();
    const bad = await editedCopy(report, path.join(dir, 'bad.xlsx'), {
      refund: [],
      set: [
        { id: a, header: 'Action', value: 'IGNROE' },
        { id: b, header: 'Action', value: 'INVESTIGATE' },
      ],
      extraRow: 'D0123456789abcdef',
    });
    const run = importDecisions(db.db, bad, new Date(NOW));
    await expect(run).rejects.toBeInstanceOf(UsageError);
    await expect(run).rejects.toThrow(
      /^decisions refused, nothing was recorded: Discrepancies row \d+: Action "IGNROE" is not one of REFUND, IGNORE, INVESTIGATE; Discrepancies row \d+: unknown discrepancy id D0123456789abcdef \(a workbook of another database\?\)$/,
    );

    // an Action left on a row whose Type was changed (or sorted apart from its id): not the row it was chosen for
    const moved = await editedCopy(report, path.join(dir, 'moved.xlsx'), {
      refund: [],
      set: [
        { id: a, header: 'Action', value: 'IGNORE' },
        { id: a, header: 'Type', value: 'fee_mismatch' },
      ],
    });
    await expect(importDecisions(db.db, moved, new Date(NOW))).rejects.toThrow(
      /^decisions refused, nothing was recorded: Discrepancies row \d+: the Discrepancy ID does not belong to this row's Provider, Type and Transaction ID \(sorted or edited apart from its row\?\)$/,
    );

    // a row added by hand with an Action and no id
    const noId = await editedCopy(report, path.join(dir, 'no-id.xlsx'), { refund: [], extraRow: '' });
    await expect(importDecisions(db.db, noId, new Date(NOW))).rejects.toThrow(
      /^decisions refused, nothing was recorded: Discrepancies row \d+: an Action without a Discrepancy ID$/,
    );

    const repeated = await editedCopy(report, path.join(dir, 'repeated.xlsx'), {
      refund: [],
      set: [{ id: b, header: 'Action', value: 'IGNORE' }],
      extraRow: b,
    });
    const cliRun = await cli('decisions', 'import', repeated);
    expect(cliRun.code).toBe(2);
    expect(cliRun.stderr.trim()).toMatch(
      new RegExp(
        `^payrecon: decisions refused, nothing was recorded: Discrepancies row \\d+: ${b} is also on Discrepancies row \\d+$`,
      ),
    );
    expect(await decisions()).toEqual(before);
  });

  it('says that an id was turned into a number, rather than calling it unknown or its row misplaced', async () => {
    const [a, b] = w.ids as [string, string];
    const before = await decisions();
    // What a CSV round trip through a spreadsheet program leaves of 19-digit ids.
    const numbers = await editedCopy(report, path.join(dir, 'numbers.xlsx'), {
      refund: [],
      set: [
        { id: a, header: 'Action', value: 'IGNORE' },
        { id: a, header: 'Transaction ID', value: Number('1012411211459123457') },
        { id: b, header: 'Action', value: 'IGNORE' },
        { id: b, header: 'Discrepancy ID', value: Number('1234567890123456789') },
      ],
    });
    const message = await importDecisions(db.db, numbers, new Date(NOW)).then(
      () => '',
      (e: Error) => e.message,
    );
    expect(message).toMatch(/^decisions refused, nothing was recorded: /);
    const problems = message.replace(/^decisions refused, nothing was recorded: /, '').split('; ');
    expect(problems.map((p) => p.replace(/row \d+/, 'row N')).sort()).toEqual([
      'Discrepancies row N: the Discrepancy ID was turned into a number (digits may be lost): keep ids as text',
      'Discrepancies row N: the Transaction ID was turned into a number (digits may be lost): keep ids as text',
    ]);
    expect(await decisions()).toEqual(before);
  });

  it.skipIf(!soffice)('reads a workbook as LibreOffice saves it', async () => {
    const c = w.ids[2]!;
    const current = await writeReport(stageContext(db, w.config, w.runId), w.runId);
    const edited = await withActions(current, 'edited.xlsx', [[c, 'INVESTIGATE']]);
    const saved = await mkdtemp(path.join(dir, 'saved-'));
    await sofficeConvert(soffice!, edited, 'xlsx', saved);
    const result = await importDecisions(db.db, path.join(saved, 'edited.xlsx'), new Date(NOW));
    // a and b start from their carried decisions; the Run info still says which decisions the workbook showed
    expect(result).toMatchObject({ rows: 3, recorded: { INVESTIGATE: 1 }, unchanged: 2 });
    const ids = await db.db.selectFrom('discrepancy_decisions').select('id').orderBy('id').execute();
    expect(result.decisionsShownUpTo).toBe(ids.at(-2)?.id);
    expect((await decisions()).at(-1)).toMatchObject({ discrepancy_id: c, action: 'INVESTIGATE' });
  });

  it('says which REFUND rows no refund can be planned for, and still records them', async () => {
    const [a] = w.ids as [string];
    // What a corrected settlement file does to a duplicate charge: nothing settled twice any more.
    const before = await db.db
      .selectFrom('discrepancies')
      .select('settled_amount_minor')
      .where('id', '=', a)
      .executeTakeFirstOrThrow();
    await db.db.updateTable('discrepancies').set({ settled_amount_minor: 0 }).where('id', '=', a).execute();
    try {
      const current = await writeReport(stageContext(db, w.config, w.runId), w.runId);
      const file = await withActions(current, 'refund-nothing.xlsx', [[a, 'REFUND']]);
      const result = await cli('decisions', 'import', file);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(
        `1 REFUND row(s) on discrepancies no refund can be planned for (not a refund candidate, or nothing to refund): ${a}; recorded, but nothing will be sent for them`,
      );
      expect((await decisions()).at(-1)).toMatchObject({ discrepancy_id: a, action: 'REFUND' });
    } finally {
      await db.db
        .updateTable('discrepancies')
        .set({ settled_amount_minor: before.settled_amount_minor })
        .where('id', '=', a)
        .execute();
    }
  });

  it('says so when no row has an Action', async () => {
    const result = await cli('decisions', 'import', report);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(`${report}: no row has an Action; nothing recorded`);
    const missing = await cli('decisions', 'import', path.join(dir, 'nope.xlsx'));
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe(`payrecon: workbook ${path.join(dir, 'nope.xlsx')} not found`);
    const csv = path.join(dir, 'saved-as-csv.xlsx');
    await writeFile(csv, 'Discrepancy ID,Action\n');
    const notXlsx = await cli('decisions', 'import', csv);
    expect(notXlsx.code).toBe(2);
    expect(notXlsx.stderr.trim()).toMatch(
      new RegExp(`^payrecon: workbook ${csv} is not a readable \\.xlsx workbook \\(.+\\)$`),
    );
  });
});
