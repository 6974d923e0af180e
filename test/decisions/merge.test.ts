// Decisions from workbooks written at different times: an import records only what finance changed in its
// workbook, lists every decision it changes, refuses to overrule unseen decisions or to decide REFUND / IGNORE on
// figures that moved (unless told to), and a cleared Action withdraws the decision the workbook started with.
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { importDecisions, type DecisionImport } from '../../src/decisions/index.js';
import { planRefunds } from '../../src/refunds/index.js';
import { writeReport } from '../../src/report/index.js';
import { runCli } from '../helpers/cli.js';
import { testDbPerSuite } from '../helpers/db.js';
import { stageContext } from '../refunds/fixtures.js';
import { editedCopy } from '../refunds/workbook.js';
import { startWorld, type World } from '../refunds/world.js';

const db = testDbPerSuite();
let dir: string;
let w: World;
let cfg: string;

const NOW = '2026-11-21T09:30:00Z';

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'payrecon-decisions-merge-'));
  w = await startWorld(
    db,
    [2500, 4000, 990, 1500, 7000, 3300].map((amountMinor) => ({ amountMinor })),
    { plan: false },
  );
  w.config.reports.dir = dir;
  cfg = path.join(dir, 'payrecon.config.yaml');
  await writeFile(cfg, stringify({ ...w.raw, reports: { dir } }));
});
afterAll(async () => {
  await w.close();
  await rm(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) =>
  runCli([...args, '--config', cfg], { env: { PAYRECON_CONFIG: undefined, PAYRECON_NOW: NOW } });

/** The run's workbook as it would be written now, copied to `name` (the next report rewrites the run's file). */
async function workbook(name: string): Promise<string> {
  const file = path.join(dir, name);
  await copyFile(await writeReport(stageContext(db, w.config, w.runId), w.runId), file);
  return file;
}

/** A copy of `from` with these Actions chosen (null: the cell cleared), as finance saves it. */
const withActions = (from: string, name: string, actions: [string, string | null][]) =>
  editedCopy(from, path.join(dir, name), {
    refund: [],
    set: actions.map(([id, value]) => ({ id, header: 'Action', value })),
  });

const importAt = (file: string, opts?: Parameters<typeof importDecisions>[3]) =>
  importDecisions(db.db, file, new Date(NOW), opts);

const latest = (id: string) =>
  db.db
    .selectFrom('discrepancy_decisions')
    .select(['id', 'action', 'source_file', 'workbook_decisions_shown'])
    .where('discrepancy_id', '=', id)
    .orderBy('id', 'desc')
    .executeTakeFirst();

const decisionCount = async () =>
  Number(
    (
      await db.db
        .selectFrom('discrepancy_decisions')
        .select((e) => e.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

/** A cell of the Run info row `item`, and the Action and Detail of a Discrepancies row. */
async function cellsOf(file: string, item: string, id: string) {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  const header = (s: ExcelJS.Worksheet) => {
    const col = new Map<string, number>();
    s.getRow(1).eachCell((c, n) => col.set(c.text, n));
    return col;
  };
  const info = wb.getWorksheet('Run info')!;
  const ic = header(info);
  let value: ExcelJS.CellValue = null;
  info.eachRow((r) => {
    if (r.getCell(ic.get('Item')!).text === item) value = r.getCell(ic.get('Value')!).value;
  });
  const sheet = wb.getWorksheet('Discrepancies')!;
  const dc = header(sheet);
  let row = { action: '', detail: '' };
  sheet.eachRow((r) => {
    if (r.getCell(dc.get('Discrepancy ID')!).text === id)
      row = { action: r.getCell(dc.get('Action')!).text, detail: r.getCell(dc.get('Detail')!).text };
  });
  return { value, ...row };
}

describe('decisions from workbooks written at different times', () => {
  it('says in Run info which decisions a workbook was written with, and lists every decision an import changes', async () => {
    const a = w.ids[0]!;
    const monday = await withActions(await workbook('monday-report.xlsx'), 'monday.xlsx', [[a, 'IGNORE']]);
    expect((await cellsOf(monday, 'Decisions shown up to', a)).value).toBe(0);
    await importAt(monday);
    const ignored = await latest(a);
    expect(ignored).toMatchObject({ action: 'IGNORE', workbook_decisions_shown: 0 });

    const tuesdayReport = await workbook('tuesday-report.xlsx');
    expect(await cellsOf(tuesdayReport, 'Decisions shown up to', a)).toMatchObject({
      value: ignored!.id,
      action: 'IGNORE',
    });
    const tuesday = await withActions(tuesdayReport, 'tuesday.xlsx', [[a, 'INVESTIGATE']]);
    const run = await cli('decisions', 'import', tuesday);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(
        `\\nchanged 1 earlier decision\\(s\\):\\n  ${a} \\(Discrepancies row \\d+\\): IGNORE recorded from monday\\.xlsx at 2026-11-21T09:30:00Z -> INVESTIGATE\\n`,
      ),
    );
    expect(await latest(a)).toMatchObject({ action: 'INVESTIGATE', source_file: 'tuesday.xlsx' });
  });

  it('refuses to overrule a decision recorded after the workbook was written, until told to; an Action left as written changes nothing', async () => {
    const [b, c] = [w.ids[1]!, w.ids[2]!];
    await importAt(await withActions(await workbook('setup-report.xlsx'), 'setup.xlsx', [[c, 'IGNORE']]));
    // Two people take the same night's workbook (c starts IGNORE in both).
    const base = await workbook('shared-report.xlsx');
    const alice = await withActions(base, 'alice.xlsx', [
      [b, 'IGNORE'],
      [c, 'INVESTIGATE'],
    ]);
    const bob = await withActions(base, 'bob.xlsx', [[b, 'INVESTIGATE']]);
    await importAt(alice);
    const before = await decisionCount();

    const refused = await cli('decisions', 'import', bob);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toMatch(
      new RegExp(
        `^payrecon: decisions refused, nothing was recorded: Discrepancies row \\d+ \\(${b}\\): INVESTIGATE would overrule IGNORE, recorded from alice\\.xlsx at 2026-11-21T09:30:00Z after this workbook was written\\. .*--overrule-newer`,
      ),
    );
    expect(await decisionCount()).toBe(before);

    const overruled = await cli('decisions', 'import', bob, '--overrule-newer', '--json');
    expect(overruled.code).toBe(0);
    const result = JSON.parse(overruled.stdout) as DecisionImport;
    expect(result.replaced).toEqual([
      {
        discrepancyId: b,
        sheet: 'Discrepancies',
        row: expect.any(Number) as number,
        from: { action: 'IGNORE', file: 'alice.xlsx', decidedAt: '2026-11-21T09:30:00Z' },
        to: 'INVESTIGATE',
        newer: true,
      },
    ]);
    // Bob's c still says the IGNORE his workbook was written with: Alice's INVESTIGATE stands.
    expect(result.keptNewer).toEqual([c]);
    // a, b and c: a's carried INVESTIGATE is already so
    expect(result).toMatchObject({ rows: 3, recorded: { INVESTIGATE: 1 }, unchanged: 2 });
    expect(await latest(b)).toMatchObject({ action: 'INVESTIGATE', source_file: 'bob.xlsx' });
    expect(await latest(c)).toMatchObject({ action: 'INVESTIGATE', source_file: 'alice.xlsx' });
  });

  it('refuses REFUND and IGNORE decided on figures that changed since the workbook was written; records INVESTIGATE with a warning', async () => {
    const [e, f] = [w.ids[4]!, w.ids[5]!];
    const stale = await workbook('before-correction.xlsx');
    // A correction file arrives: more was settled than the workbook shows.
    await db.pool.query(
      `update discrepancies set settled_amount_minor = settled_amount_minor + 1000, difference_minor = 1000 where id = any($1)`,
      [[e, f]],
    );
    const ignore = await withActions(stale, 'ignore-stale.xlsx', [[e, 'IGNORE']]);
    const before = await decisionCount();
    await expect(importAt(ignore)).rejects.toThrow(
      new RegExp(
        `^decisions refused, nothing was recorded: Discrepancies row \\d+ \\(${e}\\): IGNORE decided on figures that changed since: Settled amount 70 differs from the database \\(80\\.00\\), Difference 0 differs from the database \\(10\\.00\\)\\. .*--accept-changed-figures`,
      ),
    );
    expect(await decisionCount()).toBe(before);

    const accepted = await importAt(ignore, { acceptChangedFigures: true });
    expect(accepted.changedFigures).toEqual([
      {
        discrepancyId: e,
        sheet: 'Discrepancies',
        row: expect.any(Number) as number,
        action: 'IGNORE',
        differences: [
          'Settled amount 70 differs from the database (80.00)',
          'Difference 0 differs from the database (10.00)',
        ],
      },
    ]);
    expect(await latest(e)).toMatchObject({ action: 'IGNORE', source_file: 'ignore-stale.xlsx' });

    // INVESTIGATE moves no money either way: recorded, and said.
    const investigate = await withActions(stale, 'investigate-stale.xlsx', [[f, 'INVESTIGATE']]);
    const run = await cli('decisions', 'import', investigate);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(
        `\\n1 decision\\(s\\) on figures that changed since the workbook was written:\\n  ${f} \\(Discrepancies row \\d+, INVESTIGATE\\): Settled amount 33 differs from the database \\(43\\.00\\), Difference 0 differs from the database \\(10\\.00\\)`,
      ),
    );
    expect(await latest(f)).toMatchObject({ action: 'INVESTIGATE' });
  });

  it('a workbook that does not say which decisions it showed changes none without --overrule-newer, and withdraws none', async () => {
    const [a, c] = [w.ids[0]!, w.ids[2]!];
    const file = await withActions(await workbook('no-info-report.xlsx'), 'no-info.xlsx', [
      [a, 'REFUND'],
      [c, null],
    ]);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(file);
    wb.removeWorksheet(wb.getWorksheet('Run info')!.id);
    await wb.xlsx.writeFile(file);
    await expect(importAt(file)).rejects.toThrow(
      new RegExp(
        `^decisions refused, nothing was recorded: Discrepancies row \\d+ \\(${a}\\): REFUND would overrule INVESTIGATE, recorded from tuesday\\.xlsx at 2026-11-21T09:30:00Z \\(this workbook does not say when it was written\\)\\. `,
      ),
    );
    const result = await importAt(file, { overruleNewer: true });
    expect(result).toMatchObject({ decisionsShownUpTo: null, recorded: { REFUND: 1 }, withdrawn: 0 });
    expect(await latest(c)).toMatchObject({ action: 'INVESTIGATE' });
  });

  it('a cleared Action withdraws the decision the workbook started with, and refunds plan proposes the refund again', async () => {
    const d = w.ids[3]!;
    const older = await workbook('before-ignore.xlsx');
    await importAt(await withActions(await workbook('ignore-report.xlsx'), 'ignore-d.xlsx', [[d, 'IGNORE']]));
    const planned = await planRefunds(stageContext(db, w.config, w.runId), w.runId);
    expect(planned.created.map((x) => x.discrepancyId)).not.toContain(d);

    // A blank in a workbook written before the decision withdraws nothing.
    const blank = await cli('decisions', 'import', older);
    expect(blank.code).toBe(0);
    expect(blank.stdout).toContain('recorded 0 decision(s)');
    expect(blank.stdout).not.toContain('withdrew');
    expect(await latest(d)).toMatchObject({ action: 'IGNORE' });

    const shown = await workbook('withdraw-report.xlsx');
    expect((await cellsOf(shown, 'Decisions shown up to', d)).action).toBe('IGNORE');
    const cleared = await withActions(shown, 'withdraw-d.xlsx', [[d, null]]);
    const run = await cli('decisions', 'import', cleared);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('withdrew 1 decision(s) whose Action was cleared');
    expect(run.stdout).toMatch(
      new RegExp(
        `  ${d} \\(Discrepancies row \\d+\\): IGNORE recorded from ignore-d\\.xlsx at \\S+ -> withdrawn\\n`,
      ),
    );
    expect(await latest(d)).toMatchObject({ action: null, source_file: 'withdraw-d.xlsx' });
    // Importing it again records nothing more.
    expect(await importAt(cleared)).toMatchObject({ withdrawn: 0 });

    const replanned = await planRefunds(stageContext(db, w.config, w.runId), w.runId);
    expect(replanned.created.map((x) => [x.discrepancyId, x.amountMinor])).toEqual([[d, 1500]]);
    const next = await cellsOf(await workbook('after-withdrawal.xlsx'), 'Decisions shown up to', d);
    expect(next.action).toBe('');
    expect(next.detail).not.toContain('decided');
  });
});
