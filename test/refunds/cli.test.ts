// The real CLI as a subprocess: plan, refused executions (exit 2, one line, nothing sent), and a SIGKILL while a
// refund is in `sending` followed by a new execution that still leaves exactly one refund per approved row.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { writeReport } from '../../src/report/index.js';
import { BIN, runCli } from '../helpers/cli.js';
import { testDbPerSuite } from '../helpers/db.js';
import { repeatedKeys } from '../helpers/log-lines.js';
import { stageContext } from './fixtures.js';
import { editedCopy } from './workbook.js';
import { startWorld, type World } from './world.js';

const db = testDbPerSuite();
let dir: string;
let w: World;
let cfg: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'payrecon-refunds-cli-'));
  // The first refund POST is applied and then never answered; the CLI waits up to 60 s for it.
  w = await startWorld(
    db,
    [{ amountMinor: 2500 }, { amountMinor: 4000 }, { amountMinor: 700 }, { amountMinor: 60000 }],
    {
      plan: false,
      timeoutSeconds: 60,
      faults: { refundTimeoutAfterApply: 1 },
    },
  );
  cfg = path.join(dir, 'payrecon.config.yaml');
  await writeFile(cfg, stringify(w.raw));
});
afterAll(async () => {
  await w.close();
  await rm(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) =>
  runCli(['refunds', ...args, '--config', cfg, '--run', String(w.runId)], {
    env: { PAYRECON_CONFIG: undefined },
  });

async function stateOf(id: string): Promise<string | undefined> {
  const r = await db.db
    .selectFrom('refund_actions')
    .select('state')
    .where('discrepancy_id', '=', id)
    .executeTakeFirst();
  return r?.state;
}

describe('payrecon refunds (CLI)', () => {
  it('plans, then refuses executions without approval, with unknown ids or over the caps: exit 2, nothing sent', async () => {
    const plan = await cli('plan', '--json');
    expect(plan.code).toBe(0);
    const planned = JSON.parse(plan.stdout) as { created: { discrepancyId: string; amountMinor: number }[] };
    expect(planned.created.map((a) => a.discrepancyId).sort()).toEqual([...w.ids].sort());
    // Its log lines (JSON, one per line) name each key once: the run id comes from the run's logger.
    const again = await cli('plan', '--json', '--verbose');
    const lines = again.stderr.trim().split('\n');
    expect(lines.some((l) => l.includes('"refunds planned"'))).toBe(true);
    for (const l of lines) expect([l, repeatedKeys(l)]).toEqual([l, []]);

    const none = await cli('execute');
    expect(none.code).toBe(2);
    expect(none.stderr.trim()).toBe(
      'payrecon: nothing is sent without approval: give --approve ID… or --approval-file FILE.xlsx',
    );
    const unknown = await cli('execute', '--approve', 'D0123456789abcdef');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/D0123456789abcdef: unknown discrepancy id/);
    // 600.00 EUR is over the 500.00 per-refund cap of the test configuration
    const capped = await cli('execute', '--approve', w.ids[0]!, w.ids[3]!);
    expect(capped.code).toBe(2);
    expect(capped.stderr.trim().split('\n')).toHaveLength(1);
    expect(capped.stderr).toMatch(/600\.00 EUR exceeds refunds\.maxPerRefund\.EUR \(500\.00\)/);
    expect(w.refundsAtGateway()).toEqual([]);
  });

  it('after a SIGKILL while a refund is in sending, a new execution sends each approved refund exactly once', async () => {
    const approved = [w.ids[0]!, w.ids[1]!];
    const child = spawn(
      process.execPath,
      [
        BIN,
        'refunds',
        'execute',
        '--config',
        cfg,
        '--run',
        String(w.runId),
        '--approve',
        ...approved,
        '--json',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('close', (_code, signal) => resolve(signal)),
    );
    // Wait until the first refund is in `sending` and the simulator has applied it (its answer is held back).
    const deadline = Date.now() + 30_000;
    for (;;) {
      const states = await Promise.all(approved.map(stateOf));
      if (states.includes('sending') && w.refundsAtGateway().length === 1) break;
      if (Date.now() > deadline) throw new Error(`never reached sending: ${states.join(',')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect((await Promise.all(approved.map(stateOf))).sort()).toEqual(['planned', 'sending']);

    const again = await cli('execute', '--approve', ...approved, '--json');
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    const result = JSON.parse(again.stdout) as {
      actions: { discrepancyId: string; how: string; state: string }[];
    };
    expect(result.actions.map((a) => a.state)).toEqual(['succeeded', 'succeeded']);
    expect(result.actions.map((a) => a.how).sort()).toEqual(['found_at_gateway', 'sent']);
    const refunds = w.refundsAtGateway();
    expect(refunds.map(([payment, amount]) => [payment, amount]).sort()).toEqual(
      [
        [w.paymentIds[0], '25.00'],
        [w.paymentIds[1], '40.00'],
      ].sort(),
    );

    // and once more: nothing new
    const third = await cli('execute', '--approve', ...approved, '--json');
    expect(third.code).toBe(0);
    expect(w.refundsAtGateway()).toHaveLength(2);
  });

  it('prints what it will send before sending', async () => {
    const r = await cli('execute', '--approve', w.ids[2]!);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const announce = lines.findIndex((l) => l.startsWith('Sending 1 refund(s):'));
    expect(announce).toBeGreaterThanOrEqual(0);
    expect(lines[announce + 1]).toContain(`payunity  payment ${w.paymentIds[2]}  7.00 EUR`);
    expect(r.stdout).toMatch(/1 sent, 1 succeeded, 0 failed, 0 unknown/);
    expect(w.refundsAtGateway()).toHaveLength(3);
    // Who approved is on record with what was approved: the system user when no name is given.
    const approved = await db.db
      .selectFrom('refund_actions')
      .select('approved_by')
      .where('discrepancy_id', '=', w.ids[2]!)
      .executeTakeFirstOrThrow();
    expect(approved.approved_by).toBe(`ids by system user ${os.userInfo().username}`);
  });

  it('records the name given with --approved-by, and refuses an empty one before anything is read', async () => {
    const empty = await cli('execute', '--approve', w.ids[1]!, '--approved-by', ' ');
    expect([empty.code, empty.stderr.trim()]).toEqual([2, 'payrecon: --approved-by: give a name']);
    const r = await cli('execute', '--approve', w.ids[1]!, '--approved-by', 'Jane Roe (finance)', '--json');
    expect(r.code, r.stderr).toBe(0);
    // (This refund was approved, and sent, by an earlier execution: that approval stays on its record.)
    expect(JSON.parse(r.stdout)).toMatchObject({ approvedBy: 'ids by Jane Roe (finance)' });
  });

  it('refuses an approval workbook with an edited amount (exit 2, naming the row); unedited, the caps still apply', async () => {
    w.config.reports.dir = dir;
    const report = await writeReport(stageContext(db, w.config, w.runId), w.runId);
    const before = w.refundsAtGateway().length;
    const edited = await editedCopy(report, path.join(dir, 'edited.xlsx'), {
      refund: [w.ids[3]!],
      set: [{ id: w.ids[3]!, header: 'Settled amount', value: 6 }],
    });
    const refused = await cli('execute', '--approval-file', edited);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      new RegExp(
        `^payrecon: approval refused, nothing was sent: Discrepancies row \\d+ \\(${w.ids[3]}\\): Settled amount 6 differs from the database \\(600\\.00\\)`,
      ),
    );
    expect(w.refundsAtGateway()).toHaveLength(before);
    // unedited, the same row is within the approval rules, and the cap still stops it: nothing sent either
    const capped = await cli(
      'execute',
      '--approval-file',
      await editedCopy(report, path.join(dir, 'good.xlsx'), { refund: [w.ids[3]!] }),
    );
    expect(capped.code).toBe(2);
    expect(capped.stderr).toMatch(/exceeds refunds\.maxPerRefund\.EUR/);
    expect(w.refundsAtGateway()).toHaveLength(before);
  });
});
