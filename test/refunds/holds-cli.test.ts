// `payrecon refunds holds` and `payrecon refunds release-hold` as a user runs them: the real CLI as a subprocess.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { testDbPerSuite } from '../helpers/db.js';
import { startWorld, type World } from './world.js';

const db = testDbPerSuite();
let dir: string;
let w: World;
let cfg: string;
let rejection: number;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'payrecon-holds-cli-'));
  w = await startWorld(db, [{ amountMinor: 1200 }]);
  cfg = path.join(dir, 'payrecon.config.yaml');
  await writeFile(cfg, stringify(w.raw));
  const r = await db.db
    .insertInto('rejected_records')
    .values({
      provider: 'payunity',
      endpoint: 'v3/query',
      window_from: '2026-11-18T00:00:00Z',
      window_to: '2026-11-19T00:00:00Z',
      record_id: 'rf-unreadable',
      gateway_type: 'RF',
      referenced_id: w.paymentIds[0]!,
      hold_id: w.paymentIds[0]!,
      reason: 'amount "12.0001" has more decimals than EUR allows',
      raw: '{}',
      raw_hash: 'h',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  rejection = r.id;
});
afterAll(async () => {
  await w.close();
  await rm(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) =>
  runCli(['refunds', ...args, '--config', cfg], {
    env: { PAYRECON_CONFIG: undefined, PAYRECON_NOW: '2026-11-23T10:00:00Z' },
  });

describe('payrecon refunds holds / release-hold (CLI)', () => {
  it('lists the hold with the planned refund it keeps back, releases it once with who and why, and says so', async () => {
    const listed = await cli('holds', '--json');
    expect(listed.code).toBe(0);
    const { holds } = JSON.parse(listed.stdout) as {
      holds: { rejectionId: number; state: string; refunds: { discrepancyId: string }[] }[];
    };
    expect(holds).toEqual([
      expect.objectContaining({
        rejectionId: rejection,
        state: 'holding',
        refunds: [expect.objectContaining({ discrepancyId: w.ids[0] })],
      }),
    ]);
    expect((await cli('holds')).stdout).toContain(`holds refunds of payment ${w.paymentIds[0]}`);

    // Without a reason, or with a bad id: exit 2, one line, nothing recorded.
    const noReason = await cli('release-hold', String(rejection));
    expect(noReason.code).toBe(2);
    const blank = await cli('release-hold', String(rejection), '--reason', '  ');
    expect(blank.code).toBe(2);
    expect(blank.stderr.trim()).toBe('payrecon: --reason: say why this record holds no refunds');
    const bad = await cli('release-hold', 'x1', '--reason', 'r');
    expect(bad.code).toBe(2);
    const unknown = await cli('release-hold', '99999', '--reason', 'r');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/rejected record 99999 not found/);
    expect(await db.db.selectFrom('refund_hold_releases').selectAll().execute()).toEqual([]);

    const released = await cli(
      'release-hold',
      String(rejection),
      '--reason',
      'gateway test record',
      '--json',
    );
    expect(released.code).toBe(0);
    expect(JSON.parse(released.stdout)).toMatchObject({
      released: true,
      hold: {
        state: 'released',
        release: {
          by: expect.stringMatching(/^system user /),
          at: '2026-11-23T10:00:00.000Z',
          reason: 'gateway test record',
        },
      },
    });
    const twice = await cli('release-hold', String(rejection), '--reason', 'other', '--by', 'Jane Roe');
    expect(twice.code).toBe(0);
    expect(twice.stdout).toMatch(
      /was already released by system user .*gateway test record; nothing changed\./,
    );
    expect(
      await db.db.selectFrom('refund_hold_releases').select(['released_by', 'reason']).execute(),
    ).toEqual([{ released_by: expect.stringMatching(/^system user /), reason: 'gateway test record' }]);
    const plan = await cli('plan', '--run', String(w.runId), '--json');
    expect((JSON.parse(plan.stdout) as { actions: { held: unknown }[] }).actions.map((a) => a.held)).toEqual([
      null,
    ]);
  });
});
