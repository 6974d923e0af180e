// `payrecon report --run ID` as a user runs it: the real CLI over the build, against a test database.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { testDbPerSuite, testDbUrl } from '../helpers/db.js';
import { repeatedKeys } from '../helpers/log-lines.js';
import { seed, type Seeded } from './fixture.js';

const tdb = testDbPerSuite();
let seeded: Seeded;
const dir = mkdtempSync(path.join(os.tmpdir(), 'payrecon-report-cli-'));
const config = path.join(dir, 'payrecon.config.yaml');
const env = { DATABASE_URL: undefined, PAYRECON_CONFIG: undefined };

beforeAll(async () => {
  seeded = await seed(tdb.pool);
  writeFileSync(
    config,
    `timezone: Europe/Berlin
database: { url: '${testDbUrl(tdb.name)}' }
reports: { dir: '${path.join(dir, 'reports')}' }
providers:
  useepay:
    baseUrl: http://127.0.0.1:9
    merchantNo: '1'
    appId: a
    apiKey: k
    settlement: { source: local, localDir: ${dir} }
`,
  );
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('payrecon report', () => {
  it('(re)writes the workbook of a run and prints its path', async () => {
    const r = await runCli(['report', '--run', String(seeded.runId), '--config', config, '--json'], { env });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { runId: number; reportPath: string; rows: Record<string, number> };
    expect(out.runId).toBe(seeded.runId);
    expect(out.reportPath).toBe(
      path.join(dir, 'reports', `payrecon_2026-11-19_2026-11-20_run-${seeded.runId}.xlsx`),
    );
    expect(out.rows.Discrepancies).toBe(5);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(out.reportPath);
    expect(wb.worksheets).toHaveLength(8);
    const run = await tdb.db
      .selectFrom('runs')
      .select('report_path')
      .where('id', '=', seeded.runId)
      .executeTakeFirstOrThrow();
    expect(run.report_path).toBe(out.reportPath);

    // Without --json, the path alone: easy to use from a script.
    const first = readFileSync(out.reportPath);
    const plain = await runCli(['report', '--run', String(seeded.runId), '--config', config], { env });
    expect(plain.code).toBe(0);
    expect(plain.stdout.trim()).toBe(out.reportPath);

    // The first workbook is kept beside the rewrite, and stays the first through later rewrites, which read the
    // database as it is now: here a decision recorded since.
    const original = out.reportPath.replace(/\.xlsx$/, '.original.xlsx');
    expect(readFileSync(original).equals(first)).toBe(true);
    const { rows: picked } = await tdb.pool.query<{ id: string }>(
      `select discrepancy_id as id from run_discrepancies where run_id = $1 order by 1 limit 1`,
      [seeded.runId],
    );
    await tdb.pool.query(
      `insert into discrepancy_decisions (discrepancy_id, action, source_file, source_sha256, sheet, row_no)
       values ($1, 'IGNORE', 'finance.xlsx', repeat('a', 64), 'Discrepancies', 2)`,
      [picked[0]!.id],
    );
    const again = await runCli(['report', '--run', String(seeded.runId), '--config', config, '--json'], {
      env,
    });
    expect(JSON.parse(again.stdout)).toMatchObject({
      reportPath: out.reportPath,
      originalReportPath: original,
    });
    const actions = async (file: string) => {
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.readFile(file);
      const sheet = wb.getWorksheet('Discrepancies')!;
      const column = (sheet.getRow(1).values as unknown[]).indexOf('Action');
      return sheet
        .getColumn(column)
        .values.slice(2)
        .filter((v) => v !== null && v !== undefined && v !== '');
    };
    expect(await actions(out.reportPath)).toEqual(['IGNORE']);
    expect(await actions(original)).toEqual([]);
    expect(readFileSync(original).equals(first)).toBe(true);
    expect(readdirSync(path.dirname(out.reportPath)).sort()).toEqual(
      [path.basename(out.reportPath), path.basename(original)].sort(),
    );
  });

  it("says so when later runs cover the run's dates: a warning, and a Run info row naming them", async () => {
    // Two more runs: one over other dates, one over another provider only. Neither covers the seeded runs.
    for (const [from, to, providers] of [
      ['2026-11-21', '2026-11-22', '{payunity,useepay}'],
      ['2026-11-19', '2026-11-20', '{stripe}'],
    ] as const)
      await tdb.pool.query(
        `insert into runs (command, from_date, to_date, providers, status, tool_version)
         values ('run', $1, $2, $3, 'succeeded', '0.1.0')`,
        [from, to, providers],
      );
    const later = async (runId: number) => {
      const r = await runCli(['report', '--run', String(runId), '--config', config, '--json'], { env });
      expect(r.code).toBe(0);
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.readFile((JSON.parse(r.stdout) as { reportPath: string }).reportPath);
      const rows: string[][] = [];
      wb.getWorksheet('Run info')!.eachRow((row) => {
        const v = row.values as unknown[];
        if (v[2] === 'Later runs over these dates') rows.push([String(v[4]), String(v[12])]);
      });
      return { stderr: r.stderr, rows };
    };

    const earlier = await later(seeded.prevRunId);
    expect(earlier.rows).toHaveLength(1);
    expect(earlier.rows[0]![0]).toBe(String(seeded.runId));
    expect(earlier.rows[0]![1]).toMatch(/^written after them: which discrepancies are listed/);
    const warnings = earlier.stderr
      .split('\n')
      .filter((l) => l.includes('later runs'))
      .map((l) => {
        expect(repeatedKeys(l)).toEqual([]);
        return JSON.parse(l) as { level: number; laterRuns: number[]; msg: string };
      });
    expect(warnings).toEqual([
      expect.objectContaining({
        level: 40,
        laterRuns: [seeded.runId],
        msg: expect.stringMatching(new RegExp(`^later runs cover some of run ${seeded.prevRunId}'s dates`)),
      }),
    ]);

    const latest = await later(seeded.runId);
    expect(latest.rows).toEqual([]);
    expect(latest.stderr).not.toMatch(/later runs/);
  });

  it('refuses an unknown run or a malformed id with exit 2 and one clear line', async () => {
    const missing = await runCli(['report', '--run', '999999', '--config', config], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/run 999999 does not exist/);
    expect(missing.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const bad = await runCli(['report', '--run', 'abc', '--config', config], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--run expects a run id/);
    expect(existsSync(path.join(dir, 'reports', 'payrecon_2026-11-19_2026-11-20_run-999999.xlsx'))).toBe(
      false,
    );
  });
});
