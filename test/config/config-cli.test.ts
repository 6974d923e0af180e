// Configuration problems as every command meets them: the CLI as a subprocess over the build, exit code 2 and one
// line naming the key, before anything is started or recorded.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { testDbPerSuite, testDbUrl } from '../helpers/db.js';

const db = testDbPerSuite();
const dir = mkdtempSync(path.join(os.tmpdir(), 'payrecon-config-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const env = { DATABASE_URL: undefined, PAYRECON_CONFIG: undefined };

function configFile(name: string, profile: Record<string, unknown>): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    stringify({
      database: { url: testDbUrl(db.name) },
      reports: { dir: path.join(dir, 'reports') },
      providers: {
        payunity: {
          baseUrl: 'http://127.0.0.1:9',
          entityId: 'e',
          accessToken: 'tok-secret-1',
          settlement: { source: 'local', localDir: path.join(dir, 'inbox'), profile },
        },
      },
    }),
  );
  return file;
}

describe('a custom profile with a bad date format', () => {
  const profile = {
    filePattern: '^settle_(?<date>\\d{8})\\.csv$',
    dateFormat: 'dd.MM.yyyy QQ',
    columns: { kind: 'Art', currency: 'Whg', gross: 'Betrag', transactionId: 'Ref' },
  };

  it.each([
    ['run', ['run', '--date', '2026-11-20']],
    ['fetch', ['fetch', '--date', '2026-11-20']],
    ['config check', ['config', 'check']],
  ])('fails `%s` at load with the key path, before a run is recorded', async (_name, args) => {
    const file = configFile('bad-date-format', profile);
    const r = await runCli([...args, '--config', file], { env });
    expect([r.code, r.stderr]).toEqual([
      2,
      'payrecon: providers.payunity.settlement.profile.dateFormat: date format "dd.MM.yyyy QQ": unsupported token "QQ"\n',
    ]);
    const runs = await db.db.selectFrom('runs').select('id').execute();
    expect(runs).toEqual([]);
  });
});
