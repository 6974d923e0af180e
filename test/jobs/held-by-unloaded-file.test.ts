// A run whose fetch leaves a settlement file for the next fetch (here: modified less than minFileAgeSeconds before
// the fetch) keeps the payments that file could settle awaiting, saying why, instead of opening
// missing_in_settlement for them; the next run that loads the file matches them with no discrepancy opened. A match
// without a fetch of its own (`payrecon match`) holds them too, by the files the last fetch left.
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import type { OpenDatabase } from '../../src/db/open.js';
import { executeRun, type RunRequest, type RunStages } from '../../src/jobs/run.js';
import { defaultStages } from '../../src/jobs/stages.js';
import { formatRunResult } from '../../src/jobs/summary.js';
import { fetchSettlement } from '../../src/settlement/fetch.js';
import { silentLogger } from '../../src/shared/log.js';
import { testStageContext } from '../helpers/context.js';
import { testDbPerTest } from '../helpers/db.js';
import { insertGateway, openKeys } from '../reconcile/fixtures.js';
import { payunityFile, payunityLine } from '../settlement/builders.js';

const tdb = testDbPerTest();
/** Thursday the 26th: every payment below is past its deadline (3 business days). */
const NOW = '2026-11-26T08:00:00Z';
const LEFT = 'PAYUNITY_SETTLEMENT_e_20261119.csv';
const LOADED = 'PAYUNITY_SETTLEMENT_e_20261120.csv';
const REASON =
  'modified 30 s before the fetch started, under providers.payunity.settlement.minFileAgeSeconds (60): its upload may still be under way; not loaded; the next fetch takes it again';
const DETAIL = `past its settlement deadline, but its settlement file ${LEFT} for 2026-11-19 arrived and was not loaded: ${REASON}`;
const run: RunRequest = {
  command: 'run',
  range: { from: '2026-11-16', to: '2026-11-20' },
  providers: ['payunity'],
  stages: { fetch: true, pull: true, report: true },
};

let dir: string;
let config: Config;

function setTime(name: string, iso: string): void {
  utimesSync(path.join(dir, 'inbox', name), new Date(iso), new Date(iso));
}

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'payrecon-held-'));
  const inbox = path.join(dir, 'inbox');
  mkdirSync(inbox);
  config = parseConfig(
    {
      timezone: 'UTC',
      reports: { dir: path.join(dir, 'reports') },
      providers: {
        payunity: {
          baseUrl: 'http://127.0.0.1:9',
          entityId: 'e',
          accessToken: 't',
          settlement: {
            source: 'local',
            localDir: inbox,
            archiveDir: path.join(dir, 'archive'),
            minFileAgeSeconds: 60,
          },
        },
      },
    },
    {},
  ).config;
  // The pull is not what this is about: the gateway's records are stored as a pull would store them.
  await insertGateway(tdb.db, [
    // Monday the 16th, due Thursday the 19th, and Thursday the 19th, due Tuesday the 24th: both in the 19th's file.
    { id: 'A', time: '2026-11-16T10:00:00Z' },
    { id: 'A2', time: '2026-11-19T10:00:00Z', amount: 2500 },
    // Friday the 13th, due Wednesday the 18th: no line anywhere, and the 19th is past its deadline.
    { id: 'C', time: '2026-11-13T10:00:00Z' },
    // Wednesday the 18th: settled in the file of the 20th, which loads.
    { id: 'E', time: '2026-11-18T10:00:00Z' },
  ]);
  const line = (id: string, date: string, time: string, amount: string) =>
    payunityLine({ date, id, order: `ORD-${id}`, time, amount, fee: '0.00', net: amount });
  writeFileSync(
    path.join(inbox, LEFT),
    payunityFile([
      line('A', '2026-11-19', '2026-11-16 10:00:00', '10.00'),
      line('A2', '2026-11-19', '2026-11-19 10:00:00', '25.00'),
    ]),
  );
  writeFileSync(
    path.join(inbox, LOADED),
    payunityFile([line('E', '2026-11-20', '2026-11-18 10:00:00', '10.00')]),
  );
  setTime(LOADED, '2026-11-21T06:00:00Z');
  // Still being uploaded when the fetch starts.
  setTime(LEFT, '2026-11-26T07:59:30Z');
});

function execute(req: RunRequest, now: string) {
  const db: OpenDatabase = { ...tdb, embedded: undefined, shutdown: () => tdb.close() };
  const real = defaultStages({ config, log: silentLogger() });
  const stages: RunStages = { ...real, pull: () => Promise.resolve({ windows: [], records: 0 }) };
  return executeRun(
    {
      db,
      config,
      log: silentLogger(),
      signal: new AbortController().signal,
      now: () => new Date(now),
      stages,
    },
    req,
  );
}

/** A sheet's rows as header -> cell text. */
async function sheetRows(file: string, name: string): Promise<Record<string, string>[]> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  const ws = wb.getWorksheet(name)!;
  const header = ws.getRow(1);
  const rows: Record<string, string>[] = [];
  ws.eachRow((r, n) => {
    if (n === 1) return;
    const row: Record<string, string> = {};
    header.eachCell((h, col) => (row[h.text] = r.getCell(col).text));
    rows.push(row);
  });
  return rows;
}

describe('a settlement file that arrived and was not loaded', () => {
  it('keeps the payments it could settle awaiting, with the reason; the next run matches them', async () => {
    const first = await execute(run, NOW);
    expect(first.status).toBe('succeeded');
    // C's window (13th to 18th) does not include the 19th: missing. A and A2 wait for the file.
    expect(await openKeys(tdb.db)).toEqual(['missing_in_settlement:C']);
    expect(first.counts).toMatchObject({
      matched: 1,
      awaitingSettlement: 2,
      awaitingHeld: 2,
      discrepancies: { missing_in_settlement: 1 },
    });
    expect(first.awaitingHeld).toEqual([
      {
        provider: 'payunity',
        file: LEFT,
        settlementDate: '2026-11-19',
        reason: REASON,
        count: 2,
        byCurrency: { EUR: { count: 2, amountMinor: 3500 } },
        detail: DETAIL,
      },
    ]);
    // As `payrecon run --json` prints it.
    expect(JSON.parse(JSON.stringify(first))).toMatchObject({
      awaitingHeld: [{ file: LEFT, detail: DETAIL }],
    });
    expect(formatRunResult(first)).toContain(
      `  awaiting settlement past the deadline: 2 of payunity held by ${LEFT} (2026-11-19), not loaded yet`,
    );

    const awaiting = await sheetRows(first.reportPath!, 'Awaiting settlement');
    expect(awaiting.map((r) => [r['Transaction ID'], r['Detail']])).toEqual([
      ['A', DETAIL],
      ['A2', DETAIL],
    ]);
    const summary = await sheetRows(first.reportPath!, 'Summary');
    expect(
      summary
        .filter((r) => r['Section'] === 'Awaiting settlement')
        .map((r) => [r['Item'], r['Count'], r['Amount']]),
    ).toEqual([['Past the lag, file not loaded', '2', '35']]);

    // The upload has finished: the next run loads the file and matches what it held, opening nothing.
    setTime(LEFT, '2026-11-26T07:00:00Z');
    const second = await execute(run, '2026-11-26T09:00:00Z');
    expect(second.counts).toMatchObject({
      matched: 3,
      awaitingSettlement: 0,
      awaitingHeld: 0,
      opened: 0,
      discrepancies: { missing_in_settlement: 1 },
    });
    expect(second.awaitingHeld).toEqual([]);
    expect(await openKeys(tdb.db)).toEqual(['missing_in_settlement:C']);
    const ever = await tdb.db.selectFrom('discrepancies').select('transaction_id').execute();
    expect(ever.map((d) => d.transaction_id)).toEqual(['C']);
  });

  it('holds in a match without a fetch what the last fetch left, until a fetch loads the file', async () => {
    const first = await execute(run, NOW);
    expect(first.awaitingHeld.map((h) => h.count)).toEqual([2]);
    const stored = await tdb.db.selectFrom('settlement_files_left').selectAll().execute();
    expect(stored.map((r) => [r.provider, r.file_name, r.settlement_date, r.reason, r.run_id])).toEqual([
      ['payunity', LEFT, '2026-11-19', REASON, first.runId],
    ]);

    // The morning after: finance re-matches the stored data. The file the night's fetch left still holds A and A2.
    const matchOnly = await execute(
      { ...run, command: 'match', stages: { fetch: false, pull: false, report: true } },
      '2026-11-26T08:30:00Z',
    );
    expect(matchOnly.counts).toMatchObject({
      matched: 1,
      awaitingSettlement: 2,
      awaitingHeld: 2,
      opened: 0,
      discrepancies: { missing_in_settlement: 1 },
    });
    expect(matchOnly.awaitingHeld).toEqual(first.awaitingHeld);
    // Its date arrived and was not loaded, as the night's run said; not late.
    const day19 = (r: typeof first) =>
      (r.lateFiles as { settlementDate: string }[]).filter((l) => l.settlementDate === '2026-11-19');
    expect(day19(first)).toEqual([expect.objectContaining({ status: 'not_loaded' })]);
    expect(day19(matchOnly)).toEqual([
      expect.objectContaining({ status: 'not_loaded', files: [{ file: LEFT, reason: REASON }] }),
    ]);
    expect(await openKeys(tdb.db)).toEqual(['missing_in_settlement:C']);
    const awaiting = await sheetRows(matchOnly.reportPath!, 'Awaiting settlement');
    expect(awaiting.map((r) => [r['Transaction ID'], r['Detail']])).toEqual([
      ['A', DETAIL],
      ['A2', DETAIL],
    ]);

    // As long as in a run: A (due the 19th) at most 7 days past its deadline, A2 (due the 24th) still held.
    const weekLater = await execute(
      { ...run, command: 'match', stages: { fetch: false, pull: false, report: false } },
      '2026-11-27T08:00:00Z',
    );
    expect(weekLater.awaitingHeld.map((h) => h.count)).toEqual([1]);
    expect(await openKeys(tdb.db)).toEqual(['missing_in_settlement:A', 'missing_in_settlement:C']);

    // A fetch alone loads the file: it is no longer stored as left, and the next match pairs what it held.
    setTime(LEFT, '2026-11-27T07:00:00Z');
    const ctx = testStageContext(tdb, config, { now: '2026-11-27T09:00:00Z' });
    const fetched = await fetchSettlement(ctx, 'payunity', run.range);
    expect(fetched.files.find((f) => f.name === LEFT)?.status).toBe('loaded');
    expect(await tdb.db.selectFrom('settlement_files_left').selectAll().execute()).toEqual([]);
    const after = await execute(
      { ...run, command: 'match', stages: { fetch: false, pull: false, report: false } },
      '2026-11-27T09:30:00Z',
    );
    expect(after.counts).toMatchObject({ matched: 3, awaitingSettlement: 0, awaitingHeld: 0, closed: 1 });
    expect(after.awaitingHeld).toEqual([]);
    expect(await openKeys(tdb.db)).toEqual(['missing_in_settlement:C']);
  });
});
