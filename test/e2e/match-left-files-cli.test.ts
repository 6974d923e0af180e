// `payrecon match` the morning after `payrecon fetch` left a settlement file for the next fetch: the real CLI over
// the build, a local settlement folder, a test database. The payments the left file could settle stay awaiting,
// said in --json as a run says it, instead of opening as missing_in_settlement.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { testDbPerSuite, testDbUrl } from '../helpers/db.js';
import { insertGateway, openKeys } from '../reconcile/fixtures.js';
import { payunityFile, payunityLine } from '../settlement/builders.js';

const tdb = testDbPerSuite();
const dir = mkdtempSync(path.join(os.tmpdir(), 'payrecon-match-left-'));
const inbox = path.join(dir, 'inbox');
const config = path.join(dir, 'payrecon.config.yaml');
const LEFT = 'PAYUNITY_SETTLEMENT_e_20261119.csv';
const REASON =
  'modified 30 s before the fetch started, under providers.payunity.settlement.minFileAgeSeconds (60): its upload may still be under way; not loaded; the next fetch takes it again';
const DATES = ['--from', '2026-11-16', '--to', '2026-11-20'];
const at = (now: string) => ({ DATABASE_URL: undefined, PAYRECON_CONFIG: undefined, PAYRECON_NOW: now });

beforeAll(async () => {
  mkdirSync(inbox);
  writeFileSync(
    config,
    `timezone: UTC
database: { url: '${testDbUrl(tdb.name)}' }
reports: { dir: '${path.join(dir, 'reports')}' }
providers:
  payunity:
    baseUrl: http://127.0.0.1:9
    entityId: e
    accessToken: t
    settlement: { source: local, localDir: '${inbox}', minFileAgeSeconds: 60 }
`,
  );
  // Both past their deadline on the 26th; both settled in the file of the 19th.
  await insertGateway(tdb.db, [
    { id: 'A', time: '2026-11-16T10:00:00Z' },
    { id: 'A2', time: '2026-11-19T10:00:00Z', amount: 2500 },
  ]);
  const line = (id: string, time: string, amount: string) =>
    payunityLine({ date: '2026-11-19', id, order: `ORD-${id}`, time, amount, fee: '0.00', net: amount });
  writeFileSync(
    path.join(inbox, LEFT),
    payunityFile([line('A', '2026-11-16 10:00:00', '10.00'), line('A2', '2026-11-19 10:00:00', '25.00')]),
  );
  // Still being uploaded when the night's fetch starts.
  const t = new Date('2026-11-26T07:59:30Z');
  utimesSync(path.join(inbox, LEFT), t, t);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('payrecon match after a fetch that left a file', () => {
  it('holds the payments the file could settle, and says so in --json and in the text', async () => {
    const fetch = await runCli(['fetch', ...DATES, '--config', config, '--json'], {
      env: at('2026-11-26T08:00:00Z'),
    });
    expect(fetch.code).toBe(0);
    const files = (JSON.parse(fetch.stdout) as { providers: { files: object[] }[] }).providers[0]!.files;
    expect(files).toEqual([expect.objectContaining({ name: LEFT, retryNextFetch: true, reason: REASON })]);

    const match = await runCli(['match', ...DATES, '--config', config, '--json'], {
      env: at('2026-11-26T08:30:00Z'),
    });
    expect(match.stderr).not.toMatch(/"level":(50|60)/);
    expect(match.code).toBe(0);
    const out = JSON.parse(match.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({
      status: 'succeeded',
      counts: {
        matched: 0,
        awaitingSettlement: 2,
        awaitingHeld: 2,
        discrepancies: { missing_in_settlement: 0 },
      },
      awaitingHeld: [
        {
          provider: 'payunity',
          file: LEFT,
          settlementDate: '2026-11-19',
          reason: REASON,
          count: 2,
          byCurrency: { EUR: { count: 2, amountMinor: 3500 } },
          detail: `past its settlement deadline, but its settlement file ${LEFT} for 2026-11-19 arrived and was not loaded: ${REASON}`,
        },
      ],
    });
    expect(await openKeys(tdb.db)).toEqual([]);

    const text = await runCli(['match', ...DATES, '--config', config], { env: at('2026-11-26T08:40:00Z') });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(
      `awaiting settlement past the deadline: 2 of payunity held by ${LEFT} (2026-11-19), not loaded yet`,
    );
  });
});
