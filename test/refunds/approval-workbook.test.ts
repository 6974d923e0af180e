// Approval through the finance workbook: the real report for the run, edited the way finance edits it (Action
// column), read back by the approval reader and checked against the database before anything is sent.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readApprovalWorkbook } from '../../src/report/approval-reader.js';
import { writeReport } from '../../src/report/index.js';
import { resolveApproval } from '../../src/refunds/approval.js';
import { executeRefunds } from '../../src/refunds/index.js';
import { UsageError } from '../../src/shared/errors.js';
import { testDbPerSuite } from '../helpers/db.js';
import { realClients, stageContext } from './fixtures.js';
import { editedCopy, type Edit } from './workbook.js';
import { startWorld, type World } from './world.js';

const db = testDbPerSuite();
let dir: string;
let w: World;
let report: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'payrecon-approval-'));
  w = await startWorld(db, [{ amountMinor: 2500 }, { amountMinor: 4000 }, { amountMinor: 990 }]);
  w.config.reports.dir = dir;
  report = await writeReport(stageContext(db, w.config, w.runId), w.runId);
});
afterAll(async () => {
  await w.close();
  await rm(dir, { recursive: true, force: true });
});

const approvalCopy = (name: string, edit: Edit) => editedCopy(report, path.join(dir, name), edit);

const exec = (file: string) =>
  executeRefunds(stageContext(db, w.config, w.runId), w.runId, { workbook: file }, realClients(w.config));

describe('approval workbook', () => {
  it('reads back exactly the rows marked REFUND, with their amounts', async () => {
    const file = await approvalCopy('read.xlsx', { refund: [w.ids[0]!, w.ids[2]!] });
    const { rows } = await readApprovalWorkbook(file);
    expect(
      rows.map((r) => [r.discrepancyId, r.currency, r.gatewayAmount, r.settledAmount, r.difference]).sort(),
    ).toEqual(
      [
        [w.ids[0], 'EUR', 25, 25, 0],
        [w.ids[2], 'EUR', 9.9, 9.9, 0],
      ].sort(),
    );
    expect(rows.every((r) => r.sheet === 'Discrepancies' && r.row >= 2)).toBe(true);
  });

  it('refuses the whole approval over a mistyped Action, rather than pass that row over', async () => {
    const file = await approvalCopy('typo.xlsx', {
      refund: [w.ids[0]!],
      set: [{ id: w.ids[1]!, header: 'Action', value: 'REFUDN' }],
    });
    const run = exec(file);
    await expect(run).rejects.toBeInstanceOf(UsageError);
    await expect(run).rejects.toThrow(
      /^approval refused, nothing was sent: Discrepancies row \d+: Action "REFUDN" is not one of REFUND, IGNORE, INVESTIGATE$/,
    );
    expect(w.refundsAtGateway()).toEqual([]);
  });

  it('refuses the whole approval when one approved row has an edited amount, naming the row', async () => {
    const file = await approvalCopy('edited-amount.xlsx', {
      refund: [w.ids[0]!, w.ids[1]!],
      set: [{ id: w.ids[1]!, header: 'Settled amount', value: 400 }],
    });
    const { rows } = await readApprovalWorkbook(file);
    const edited = rows.find((r) => r.discrepancyId === w.ids[1]);
    const run = exec(file);
    await expect(run).rejects.toBeInstanceOf(UsageError);
    await expect(run).rejects.toThrow(
      `Discrepancies row ${edited?.row} (${w.ids[1]}): Settled amount 400 differs from the database (40.00)`,
    );
    expect(w.refundsAtGateway()).toEqual([]);
  });

  it('refuses an edited currency, a REFUND on a row that is not its own, and an unknown id', async () => {
    const currency = await approvalCopy('edited-currency.xlsx', {
      refund: [w.ids[0]!],
      set: [{ id: w.ids[0]!, header: 'Currency', value: 'USD' }],
    });
    await expect(exec(currency)).rejects.toThrow(/Currency "USD" differs from the database \(EUR\)/);
    const moved = await approvalCopy('edited-provider.xlsx', {
      refund: [w.ids[0]!],
      set: [{ id: w.ids[0]!, header: 'Provider', value: 'useepay' }],
    });
    await expect(exec(moved)).rejects.toThrow(
      `(${w.ids[0]}): the Discrepancy ID does not belong to this row's Provider, Type and Transaction ID`,
    );
    const unknown = await approvalCopy('unknown-id.xlsx', {
      refund: [w.ids[0]!],
      extraRow: 'D00000000000000ff',
    });
    await expect(exec(unknown)).rejects.toThrow(/D00000000000000ff\): unknown discrepancy id/);
    const none = await approvalCopy('none.xlsx', { refund: [] });
    await expect(exec(none)).rejects.toThrow(/no row with Action REFUND/);
    expect(w.refundsAtGateway()).toEqual([]);
  });

  it('says that an id was turned into a number (a CSV round trip), naming the row', async () => {
    const file = await approvalCopy('number-id.xlsx', {
      refund: [w.ids[0]!],
      set: [{ id: w.ids[0]!, header: 'Transaction ID', value: Number('1012411211459123457') }],
    });
    const run = exec(file);
    await expect(run).rejects.toBeInstanceOf(UsageError);
    await expect(run).rejects.toThrow(
      new RegExp(
        `^approval refused, nothing was sent: Discrepancies row \\d+ \\(${w.ids[0]}\\): the Transaction ID was turned into a number \\(digits may be lost\\): keep ids as text$`,
      ),
    );
    expect(w.refundsAtGateway()).toEqual([]);
  });

  it('names both rows of an id approved twice', async () => {
    const file = await approvalCopy('twice.xlsx', { refund: [w.ids[0]!, w.ids[1]!], extraRow: w.ids[1]! });
    const [first, second] = (await readApprovalWorkbook(file)).rows
      .filter((r) => r.discrepancyId === w.ids[1])
      .map((r) => r.row);
    expect(second).toBeGreaterThan(first!);
    const run = exec(file);
    await expect(run).rejects.toBeInstanceOf(UsageError);
    await expect(run).rejects.toThrow(
      new RegExp(
        `^approval refused, nothing was sent: Discrepancies row ${second} \\(${w.ids[1]}\\): also approved on Discrepancies row ${first}$`,
      ),
    );
    // Ids given on the command line have no rows to name.
    await expect(
      executeRefunds(
        stageContext(db, w.config, w.runId),
        w.runId,
        { ids: [w.ids[0]!, w.ids[0]!] },
        realClients(w.config),
      ),
    ).rejects.toThrow(`approval refused, nothing was sent: ${w.ids[0]}: approved more than once`);
    expect(w.refundsAtGateway()).toEqual([]);
  });

  it('refuses a REFUND row finance took back after the workbook was written, until it decides REFUND again', async () => {
    const id = w.ids[2]!;
    const decide = (action: 'INVESTIGATE' | 'REFUND' | null, file: string) =>
      db.db
        .insertInto('discrepancy_decisions')
        .values({
          discrepancy_id: id,
          action,
          source_file: file,
          source_sha256: 'b'.repeat(64),
          sheet: 'Discrepancies',
          row_no: 4,
        })
        .execute();
    // The report was written before any decision; finance then decided INVESTIGATE from a later workbook.
    const file = await approvalCopy('taken-back.xlsx', { refund: [id] });
    await decide('INVESTIGATE', 'tuesday.xlsx');
    try {
      const refused = resolveApproval(db.db, w.runId, { workbook: file });
      await expect(refused).rejects.toBeInstanceOf(UsageError);
      await expect(refused).rejects.toThrow(
        /Discrepancies row \d+ \(.+\): finance recorded INVESTIGATE from tuesday\.xlsx after this workbook was written; approve from a newer workbook, or import one that decides REFUND/,
      );
      // A withdrawal recorded since is newer too.
      await decide(null, 'wednesday.xlsx');
      await expect(resolveApproval(db.db, w.runId, { workbook: file })).rejects.toThrow(
        /finance recorded a withdrawal of its decision from wednesday\.xlsx after this workbook was written/,
      );
      // A newer REFUND agrees with the approval.
      await decide('REFUND', 'thursday.xlsx');
      const ok = await resolveApproval(db.db, w.runId, { workbook: file });
      expect(ok.actions.map((a) => a.discrepancyId)).toEqual([id]);
      expect(w.refundsAtGateway()).toEqual([]);
    } finally {
      await db.db.deleteFrom('discrepancy_decisions').where('discrepancy_id', '=', id).execute();
    }
  });

  it('executes the rows approved in an unedited workbook, each exactly once', async () => {
    const file = await approvalCopy('good.xlsx', { refund: [w.ids[0]!, w.ids[1]!] });
    const first = await exec(file);
    expect(first.counts).toMatchObject({ sent: 2, succeeded: 2 });
    // The approval names the very bytes approved, on every action it authorised.
    const sha256 = createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
    expect(first.approvedBy).toBe(`workbook:${file} sha256:${sha256}`);
    const recorded = await db.db
      .selectFrom('refund_actions')
      .select('approved_by')
      .where('discrepancy_id', 'in', [w.ids[0]!, w.ids[1]!])
      .execute();
    expect(recorded.map((r) => r.approved_by)).toEqual([first.approvedBy, first.approvedBy]);
    const again = await exec(file);
    expect(again.counts.sent).toBe(0);
    expect(
      w
        .refundsAtGateway()
        .map(([p, amount]) => [p, amount])
        .sort(),
    ).toEqual(
      [
        [w.paymentIds[0], '25.00'],
        [w.paymentIds[1], '40.00'],
      ].sort(),
    );
  });
});
