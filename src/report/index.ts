// The report stage: what the job and the CLI call.
export {
  writeReport,
  writeReportDetailed,
  reportFileName,
  SHEET_ORDER,
  type ReportOptions,
  type ReportResult,
} from './write-report.js';
export { EXCEL_MAX_ROWS } from './sheet-writer.js';
export { DISCREPANCIES_SHEET, ACTIONS } from './sheets/discrepancies.js';
