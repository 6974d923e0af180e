// The finance workbook of a run (reconciliation.md, "The report workbook"): eight sheets in a fixed order, streamed
// from one consistent database snapshot into a temporary file that is renamed into place only when complete, so a
// reader never opens half a workbook and a failed write leaves the previous one intact.
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import ExcelJS from 'exceljs';
import type { StageContext } from '../jobs/context.js';
import { todayIn } from '../shared/dates.js';
import { PayreconError } from '../shared/errors.js';
import { removeStaleTemps } from '../shared/stale-temps.js';
import { keepFirstWorkbook } from './keep-original.js';
import { loadScope, type ReportScope } from './scope.js';
import { EXCEL_MAX_ROWS, nameFilterRanges } from './sheet-writer.js';
import { withSnapshot } from './snapshot.js';
import { writeAwaiting } from './sheets/awaiting.js';
import { writeChanges } from './sheets/changes.js';
import { writeChargebacks } from './sheets/chargebacks.js';
import { writeDiscrepancies } from './sheets/discrepancies.js';
import { writeRefundPlan } from './sheets/refund-plan.js';
import { writeRejected } from './sheets/rejected.js';
import { writeRunInfo } from './sheets/run-info.js';
import { writeSummary } from './sheets/summary.js';
import type { SheetContext } from './sheets/types.js';

export const SHEET_ORDER = [
  'Summary',
  'Discrepancies',
  'Awaiting settlement',
  'Chargebacks',
  'Refund plan',
  'Rejected lines',
  'Changes',
  'Run info',
] as const;

export interface ReportOptions {
  /** Rows per sheet, header included, before a sheet continues in "<name> (2)". Excel's limit by default. */
  maxRowsPerSheet?: number;
  /** Rows fetched per cursor round trip. */
  batchSize?: number;
}

export interface ReportResult {
  path: string;
  /** The first workbook written for the run, kept beside it once a later one replaced it (see keepFirstWorkbook). */
  originalPath?: string;
  /** Data rows per sheet (over all its parts). */
  rows: Record<(typeof SHEET_ORDER)[number], number>;
  /** Milliseconds spent per sheet, and on finishing the file. */
  ms: Record<(typeof SHEET_ORDER)[number] | 'commit', number>;
}

/** The temporary name a workbook is written under (see writeReportDetailed). */
const TEMP_NAME = /^\.payrecon_.*\.xlsx\.\d+\.\d+\.tmp$/;

export function reportFileName(runId: number, from: string, to: string): string {
  return `payrecon_${from}_${to}_run-${runId}.xlsx`;
}

/** Writes the run's workbook to `<reports.dir>/payrecon_<from>_<to>_run-<id>.xlsx`, records it, returns its path. */
export async function writeReport(
  ctx: StageContext,
  runId: number,
  opts: ReportOptions = {},
): Promise<string> {
  return (await writeReportDetailed(ctx, runId, opts)).path;
}

export async function writeReportDetailed(
  ctx: StageContext,
  runId: number,
  opts: ReportOptions = {},
): Promise<ReportResult> {
  const dir = path.resolve(ctx.config.reports.dir);
  await mkdir(dir, { recursive: true }).catch((e: unknown) => {
    throw fileError(e, `the reports folder ${dir}`);
  });
  const abandoned = await removeStaleTemps(dir, (name) => TEMP_NAME.test(name));
  if (abandoned.length > 0) ctx.log.warn({ dir, files: abandoned }, 'removed workbooks left half-written');
  const started = ctx.now();
  const { target, original, rows, ms, laterRuns } = await withSnapshot(
    ctx.pool,
    async (snap) => {
      const scope = await loadScope(snap, ctx.db, runId, ctx.config.timezone, ctx.config.holidays);
      const target = path.join(dir, reportFileName(runId, scope.from, scope.to));
      // Same directory, so the rename is atomic; the pid and time keep concurrent writers apart.
      const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${started.getTime()}.tmp`);
      try {
        const base = { snap, scope, maxRows: opts.maxRowsPerSheet ?? EXCEL_MAX_ROWS, signal: ctx.signal };
        const written = await writeWorkbook(tmp, base, ctx);
        const original = await keepFirstWorkbook(target);
        await rename(tmp, target);
        return { target, original, ...written, laterRuns: scope.laterRuns };
      } catch (e) {
        await rm(tmp, { force: true }).catch(() => undefined); // never hide the error that brought us here
        throw fileError(e, `the workbook ${target}`);
      }
    },
    opts.batchSize,
  );
  if (laterRuns.length > 0)
    ctx.log.warn(
      { laterRuns },
      `later runs cover some of run ${runId}'s dates: the workbook lists run ${runId}'s discrepancies, with figures as the database holds them now (see its Run info)`,
    );
  await ctx.db.updateTable('runs').set({ report_path: target }).where('id', '=', runId).execute();
  const result: ReportResult = { path: target, ...(original ? { originalPath: original } : {}), rows, ms };
  ctx.log.info(result, 'report written');
  return result;
}

/** A file system error (disk full, a file where the folder should be) says which file or folder it was about. */
function fileError(e: unknown, what: string): unknown {
  const sys = e as NodeJS.ErrnoException;
  if (!(e instanceof Error) || typeof sys.code !== 'string' || typeof sys.syscall !== 'string') return e;
  return new PayreconError(`cannot write ${what}: ${e.message}`, { cause: e });
}

async function writeWorkbook(
  file: string,
  base: Omit<SheetContext, 'wb'>,
  ctx: StageContext,
): Promise<Omit<ReportResult, 'path'>> {
  // Our own file stream, so that a failure can close it before the temporary file is removed (else a late open
  // could recreate it). No shared strings: that table would hold every distinct id in memory until the end.
  const out = createWriteStream(file);
  // A write error (disk full) must fail the report, not the process, and must not leave commit() waiting forever.
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => undefined);
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: true,
    useSharedStrings: false,
  });
  const work = writeSheets(wb, base, ctx);
  work.catch(() => undefined); // awaited below on every path
  try {
    return await Promise.race([work, failed]);
  } catch (e) {
    out.on('error', () => undefined); // writes still queued in the zip land on a destroyed stream
    if (!out.closed) {
      // Not events.once: it rejects on the 'error' that the writes still in flight raise on a destroyed stream.
      const closed = new Promise<void>((resolve) => out.once('close', () => resolve()));
      out.destroy();
      await closed;
    }
    // The sheets stop at their next look at the (now destroyed) output; the database snapshot outlives them.
    await work.catch(() => undefined);
    throw e;
  }
}

async function writeSheets(
  wb: ExcelJS.stream.xlsx.WorkbookWriter,
  base: Omit<SheetContext, 'wb'>,
  ctx: StageContext,
): Promise<Omit<ReportResult, 'path'>> {
  wb.creator = 'payrecon';
  wb.created = ctx.now();
  const sc: SheetContext = { ...base, wb };
  const output = (wb as unknown as { stream: { destroyed: boolean } }).stream;
  const check = () => {
    if (ctx.signal.aborted)
      throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('report cancelled');
    if (output.destroyed) throw new Error('the workbook file was closed while writing');
  };
  const rows = {} as ReportResult['rows'];
  const ms = {} as ReportResult['ms'];
  const sheets: Array<[(typeof SHEET_ORDER)[number], () => Promise<number>]> = [
    ['Summary', () => writeSummary(sc)],
    ['Discrepancies', () => writeDiscrepancies(sc)],
    ['Awaiting settlement', () => writeAwaiting(sc)],
    ['Chargebacks', () => writeChargebacks(sc)],
    ['Refund plan', () => writeRefundPlan(sc)],
    ['Rejected lines', () => writeRejected(sc)],
    ['Changes', () => writeChanges(sc)],
    ['Run info', () => writeRunInfo(sc, localNow(ctx, base.scope))],
  ];
  for (const [name, write] of sheets) {
    check();
    const t = performance.now();
    rows[name] = await write();
    ms[name] = Math.round(performance.now() - t);
  }
  check();
  nameFilterRanges(wb);
  const t = performance.now();
  await wb.commit();
  ms.commit = Math.round(performance.now() - t);
  return { rows, ms };
}

function localNow(ctx: StageContext, scope: ReportScope): string {
  const now = ctx.now();
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: scope.timeZone,
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).format(now);
  return `${todayIn(scope.timeZone, now)}T${parts}`;
}
