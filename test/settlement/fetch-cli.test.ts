// `payrecon fetch` as a user runs it: the real CLI over the build, a local settlement folder, a test database.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { testDbPerSuite, testDbUrl } from '../helpers/db.js';
import { PAYUNITY_EXAMPLE, USEEPAY_EXAMPLE, writeFile } from './builders.js';

const tdb = testDbPerSuite();
const dir = mkdtempSync(path.join(os.tmpdir(), 'payrecon-fetch-cli-'));
const config = path.join(dir, 'payrecon.config.yaml');
const env = { DATABASE_URL: undefined, PAYRECON_CONFIG: undefined };

beforeAll(() => {
  writeFile(path.join(dir, 'in-pu'), 'PAYUNITY_SETTLEMENT_E1_20261121.csv', PAYUNITY_EXAMPLE);
  writeFile(
    path.join(dir, 'in-pu'),
    'PAYUNITY_SETTLEMENT_E1_20261120.csv',
    PAYUNITY_EXAMPLE.replace('TRAILER;3;64.33', 'TRAILER;4;64.33'),
  );
  writeFile(path.join(dir, 'in-ue'), 'useepay_settlement_500000000007245_2026-11-21.csv', USEEPAY_EXAMPLE);
  writeFileSync(
    config,
    `timezone: Europe/Berlin
database: { url: '${testDbUrl(tdb.name)}' }
reports: { dir: '${path.join(dir, 'reports')}' }
providers:
  payunity:
    baseUrl: http://127.0.0.1:9
    entityId: E1
    accessToken: t
    settlement: { source: local, localDir: ${path.join(dir, 'in-pu')} }
  useepay:
    baseUrl: http://127.0.0.1:9
    merchantNo: '500000000007245'
    appId: a
    apiKey: k
    settlement: { source: local, localDir: ${path.join(dir, 'in-ue')} }
`,
  );
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Out {
  from: string;
  to: string;
  providers: {
    provider: string;
    loadedLines: number;
    rejectedLines: number;
    files: { name: string; status: string; loaded: number; reason?: string }[];
  }[];
}

describe('payrecon fetch', () => {
  it('fetches and loads every enabled provider for the date, with per-file counts, and is idempotent', async () => {
    const r = await runCli(['fetch', '--date', '2026-11-21', '--config', config, '--json'], { env });
    expect(r.stderr).not.toMatch(/"level":(50|60)/);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Out;
    expect(out.from).toBe('2026-11-21');
    expect(out.providers.map((p) => [p.provider, p.loadedLines, p.rejectedLines])).toEqual([
      ['payunity', 3, 0],
      ['useepay', 2, 0],
    ]);
    // The file dated the 20th was never seen, so it is fetched too (a late delivery) and rejected by its trailer.
    expect(out.providers[0]!.files.map((f) => [f.name, f.status, f.loaded])).toEqual([
      ['PAYUNITY_SETTLEMENT_E1_20261120.csv', 'rejected', 0],
      ['PAYUNITY_SETTLEMENT_E1_20261121.csv', 'loaded', 3],
    ]);
    // Default archive: <reports.dir>/../.payrecon/archive/<provider>.
    expect(readdirSync(path.join(dir, '.payrecon', 'archive', 'payunity'))).toHaveLength(2);

    const human = await runCli(
      ['fetch', '--date', '2026-11-21', '--provider', 'payunity', '--config', config],
      { env },
    );
    expect(human.code).toBe(0);
    // The rejected file of the 20th is known now and outside the range: not fetched again.
    expect(human.stdout).toContain('payunity: 1 file(s), 0 line(s) loaded, 0 rejected');
    expect(human.stdout).toMatch(/duplicate\s+PAYUNITY_SETTLEMENT_E1_20261121.csv \(already loaded\)/);
    expect(human.stdout).not.toContain('useepay');
  });

  it('takes the default date (yesterday in the configured zone) from PAYRECON_NOW when it pins the clock', async () => {
    // 23:30 UTC on the 21st is already the 22nd in Berlin: yesterday there is the 21st.
    const r = await runCli(['fetch', '--provider', 'payunity', '--config', config, '--json'], {
      env: { ...env, PAYRECON_NOW: '2026-11-21T23:30:00Z' },
    });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Out;
    expect([out.from, out.to]).toEqual(['2026-11-21', '2026-11-21']);
  });

  it('exits 2 on bad usage and 1 when the settlement folder is missing', async () => {
    const bad = await runCli(['fetch', '--date', '2026-13-01', '--config', config], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid date/);
    rmSync(path.join(dir, 'in-ue'), { recursive: true });
    expect(existsSync(path.join(dir, 'in-ue'))).toBe(false);
    const missing = await runCli(
      ['fetch', '--date', '2026-11-21', '--provider', 'useepay', '--config', config],
      { env },
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read settlement folder/);
  });
});
