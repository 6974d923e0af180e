// Run info: who/what/when of the run, every input file with its SHA-256 and line counts, every API window pulled
// with its record count, every id looked up at a gateway with what it brought, then whatever else the job put in
// the manifest (printed generically: its keys may grow).
import { sql } from 'kysely';
import { date, datetime, int, type Cell } from '../cells.js';
import { DECISIONS_SHOWN_ITEM } from '../latest-decision.js';
import { localTime } from '../scope.js';
import { writeFitted, type SheetSpec } from '../sheet-writer.js';
import { describe } from './summary.js';
import type { SheetContext } from './types.js';

export const RUN_INFO_SHEET: SheetSpec = {
  name: 'Run info',
  columns: [
    { header: 'Section', width: 12 },
    { header: 'Item', width: 40 },
    { header: 'Provider', width: 10 },
    { header: 'Value', width: 24, align: 'left' },
    { header: 'SHA-256', width: 66 },
    { header: 'Lines', width: 10, align: 'right' },
    { header: 'Loaded', width: 10, align: 'right' },
    { header: 'Rejected', width: 10, align: 'right' },
    { header: 'Records', width: 10, align: 'right' },
    { header: 'From', width: 20, align: 'center' },
    { header: 'To', width: 20, align: 'center' },
    { header: 'Detail', width: 50, indent: true },
  ],
};

/** What a workbook written after later runs shows: which figures are the run's own, which are today's. */
const LATER_RUNS_DETAIL =
  'written after them: which discrepancies are listed, Changes, Awaiting settlement, the counts and the API ' +
  'windows are this run’s; amounts, decisions, refund states, the other Summary figures, the other sheets and the ' +
  'files below are read as the database holds them now';

interface FileRow {
  provider: string;
  file_name: string;
  status: string;
  sha256: string;
  settlement_date: string | null;
  line_count: number;
  loaded_count: number;
  rejected_count: number;
  remote_path: string;
  reject_reason: string | null;
  id: number;
  supersedes_file_id: number | null;
}

interface WindowRow {
  provider: string;
  endpoint: string;
  from_local: string;
  to_local: string;
  record_count: number;
}

interface LookupRow {
  provider: string;
  transaction_id: string;
  record_count: number;
  rejected_reason: string | null;
  asked_local: string;
}

export async function writeRunInfo(
  { wb, snap, scope, maxRows, signal }: SheetContext,
  writtenAt: string,
): Promise<number> {
  // A few hundred rows at most: collected first, so the Item column can be as wide as its longest file name.
  const rows: Cell[][] = [];
  const { run } = scope;
  const add = (section: string, item: string, value: Cell, detail: string | null = null) =>
    rows.push([section, item, null, value, null, null, null, null, null, null, null, detail]);
  add('Run', 'Run ID', String(run.id));
  add('Run', 'Command', run.command);
  // Written by `payrecon run` as its last stage, the workbook sees its own run still running.
  add(
    'Run',
    'Status',
    run.status === 'running' ? 'running (the workbook is the run’s last stage)' : run.status,
    run.error,
  );
  add('Run', 'From', date(scope.from));
  add('Run', 'To', date(scope.to));
  add('Run', 'Providers', scope.providers.join(', '));
  add('Run', `Started (${scope.timeZone})`, datetime(run.started_local));
  add('Run', `Finished (${scope.timeZone})`, datetime(run.finished_local));
  add('Run', 'As of (ages counted to)', date(scope.asOf));
  add('Run', 'Tool version', run.tool_version);
  add('Run', `Report written (${scope.timeZone})`, datetime(writtenAt));
  const [shown] = await snap.all(
    sql<{ id: number }>`select coalesce(max(id), 0) as id from discrepancy_decisions`.compile(scope.db),
  );
  add(
    'Run',
    DECISIONS_SHOWN_ITEM,
    int(shown?.id ?? 0),
    'the last decision recorded when this workbook was written: `payrecon decisions import` tells the Actions it started with from changes made in it, and decisions recorded since',
  );
  if (scope.laterRuns.length > 0)
    add('Run', 'Later runs over these dates', scope.laterRuns.join(', '), LATER_RUNS_DETAIL);
  // A count by type is one row per type (`discrepancies.amount_mismatch`), a number finance can add up.
  for (const [key, value] of Object.entries(run.counts))
    for (const [item, v] of flatten(key, value))
      add('Counts', item, typeof v === 'number' ? int(v) : text(v));

  const files = await snap.all(
    sql<FileRow>`
    select id, provider, file_name, status, sha256, settlement_date, line_count, loaded_count, rejected_count,
      remote_path, reject_reason, supersedes_file_id
    from settlement_files
    -- the files this run fetched, the versions its corrections replaced, and the files of its dates it used (a rerun
    -- finds them already loaded)
    where run_id = ${scope.runId}
      or id in (select supersedes_file_id from settlement_files where run_id = ${scope.runId})
      or (provider = any(${scope.providers}::text[]) and status <> 'superseded'
        and settlement_date between ${scope.from} and ${scope.to})
    order by provider, settlement_date nulls last, file_name, id`.compile(scope.db),
  );
  for (const f of files) {
    // A file refused whole was never counted line by line (its row keeps the zeros it was created with): its
    // lines and rejected lines are unknown, not none, and nothing of it was loaded.
    const counted = f.status !== 'rejected';
    rows.push([
      'Input file',
      f.file_name,
      f.provider,
      f.status,
      f.sha256,
      int(counted ? f.line_count : null),
      int(f.loaded_count),
      int(counted ? f.rejected_count : null),
      null,
      date(f.settlement_date),
      null,
      [
        f.remote_path,
        f.reject_reason,
        f.supersedes_file_id !== null ? `a correction: replaces file ${f.supersedes_file_id}` : null,
        f.status === 'superseded' ? `file ${f.id}, replaced by a correction` : null,
      ]
        .filter(Boolean)
        .join('; '),
    ]);
  }
  // Files the fetch listed but did not record (left for the next fetch, or an unsafe name): only the run's manifest
  // knows them, and the list of input files would otherwise not show them at all.
  const unrecorded = unrecordedFiles(run.manifest.files);
  for (const f of unrecorded) {
    rows.push([
      'Input file',
      f.name,
      f.provider,
      'not loaded',
      f.sha256,
      null,
      int(0),
      null,
      null,
      date(f.settlementDate),
      null,
      // Each such reason already ends with "the next fetch takes it again"; said once.
      [
        f.remotePath,
        f.reason,
        f.retryNextFetch && !/next fetch takes it again$/.test(f.reason ?? '')
          ? 'not recorded: the next fetch takes it again'
          : null,
      ]
        .filter(Boolean)
        .join('; '),
    ]);
  }
  const windows = await snap.all(
    sql<WindowRow>`
    select provider, endpoint, ${localTime(sql`window_from`, scope.timeZone)} as from_local,
      ${localTime(sql`window_to`, scope.timeZone)} as to_local, record_count
    from pull_windows where run_id = ${scope.runId} order by provider, endpoint, window_from, id`.compile(
      scope.db,
    ),
  );
  for (const w of windows) {
    rows.push([
      'API window',
      w.endpoint,
      w.provider,
      null,
      null,
      null,
      null,
      null,
      int(w.record_count),
      datetime(w.from_local),
      datetime(w.to_local),
      null,
    ]);
  }

  // Ids asked one by one (a refund's sale from before the windows, a line no window returned): where the records
  // that no window brought came from, and which ids the gateway did not know.
  const lookups = await snap.all(
    sql<LookupRow>`
    select provider, transaction_id, record_count, rejected_reason,
      ${localTime(sql`asked_at`, scope.timeZone)} as asked_local
    from gateway_lookups where run_id = ${scope.runId} order by provider, id`.compile(scope.db),
  );
  for (const l of lookups) {
    rows.push([
      'API lookup',
      l.transaction_id,
      l.provider,
      null,
      null,
      null,
      null,
      null,
      int(l.record_count),
      datetime(l.asked_local),
      null,
      l.rejected_reason !== null
        ? `its answer could not be read (see Rejected lines): ${l.rejected_reason}`
        : l.record_count === 0
          ? 'not known to the gateway: asked again by the next run'
          : 'asked by id',
    ]);
  }

  // The manifest's files/windows are the job's copy of the tables above: shown only when the tables have none.
  for (const [key, value] of Object.entries(run.manifest)) {
    if (key === 'files' && files.length + unrecorded.length > 0) continue;
    if (key === 'windows' && windows.length > 0) continue;
    for (const [item, v] of flatten(key, value)) add('Manifest', item, text(v));
  }

  return writeFitted(wb, RUN_INFO_SHEET, rows, 3, maxRows, signal);
}

/** One row per scalar, array element or object entry: `stageTimings.fetch` → 1234 (an element object described). */
function flatten(key: string, value: unknown): Array<[string, unknown]> {
  if (Array.isArray(value)) {
    return value.map((el: unknown, i) => [
      `${key}[${i}]`,
      el !== null && typeof el === 'object' ? describe(el as Record<string, unknown>) : String(el),
    ]);
  }
  if (value !== null && typeof value === 'object')
    return Object.entries(value as Record<string, unknown>).map(([k, v]) => [`${key}.${k}`, v]);
  return [[key, value]];
}

interface UnrecordedFile {
  name: string;
  provider: string | null;
  remotePath: string | null;
  sha256: string | null;
  settlementDate: string | null;
  reason: string | null;
  retryNextFetch: boolean;
}

/** The manifest's files (as the fetch reported them) that have no settlement_files row. */
function unrecordedFiles(value: unknown): UnrecordedFile[] {
  if (!Array.isArray(value)) return [];
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return value.flatMap((el: unknown) => {
    if (el === null || typeof el !== 'object') return [];
    const o = el as Record<string, unknown>;
    if (o.fileId !== undefined || typeof o.name !== 'string' || o.status !== 'refused') return [];
    return [
      {
        name: o.name,
        provider: str(o.provider),
        remotePath: str(o.remotePath),
        sha256: str(o.sha256),
        settlementDate: str(o.settlementDate),
        reason: str(o.reason),
        retryNextFetch: o.retryNextFetch === true,
      },
    ];
  });
}

/** A value as the text of a cell: strings as they are, anything else as JSON. */
function text(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}
