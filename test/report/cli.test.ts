// `payrecon report --run ID` as a user runs it: the real CLI over the build, against a test database.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { testDbPerSuite, testDbUrl } from '../helpers/db.js';
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
    const plain = await runCli(['report', '--run', String(seeded.runId), '--config', config], { env });
    expect(plain.code).toBe(0);
    expect(plain.stdout.trim()).toBe(out.reportPath);
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
