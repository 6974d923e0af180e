import type ExcelJS from 'exceljs';
import type { ReportScope } from '../scope.js';
import type { Snapshot } from '../snapshot.js';

/** What each sheet writer receives. */
export interface SheetContext {
  wb: ExcelJS.stream.xlsx.WorkbookWriter;
  snap: Snapshot;
  scope: ReportScope;
  /** Rows per sheet part, header included (Excel's limit unless a test asks for less). */
  maxRows: number;
  /** Aborted on SIGINT/SIGTERM: a long sheet stops within a few hundred rows. */
  signal: AbortSignal;
}
