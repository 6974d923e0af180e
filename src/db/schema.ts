// Kysely table types: the one description of the schema that code compiles against.
// bigint columns arrive as JS numbers (see connect.ts: checked to be safe integers); date columns as 'YYYY-MM-DD'.
import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type DateOnly = ColumnType<string, string, string>;
type Json<T extends object | null = Record<string, unknown>> = JSONColumnType<T, string, string>;

export interface RunsTable {
  id: Generated<number>;
  command: string;
  from_date: DateOnly | null;
  to_date: DateOnly | null;
  providers: ColumnType<string[], string[] | undefined, string[]>;
  status: ColumnType<'running' | 'succeeded' | 'failed', 'running' | 'succeeded' | 'failed' | undefined>;
  error: string | null;
  started_at: ColumnType<Date, Date | string | undefined, Date | string>;
  finished_at: Timestamp | null;
  tool_version: string;
  manifest: ColumnType<Record<string, unknown>, string | undefined, string>;
  counts: ColumnType<Record<string, unknown>, string | undefined, string>;
  report_path: string | null;
}

export interface SettlementFilesTable {
  id: Generated<number>;
  provider: string;
  remote_path: string;
  file_name: string;
  size: number;
  sha256: string;
  settlement_date: DateOnly | null;
  archive_path: string | null;
  profile: string;
  status: 'loaded' | 'rejected' | 'superseded';
  reject_reason: string | null;
  line_count: ColumnType<number, number | undefined, number>;
  loaded_count: ColumnType<number, number | undefined, number>;
  rejected_count: ColumnType<number, number | undefined, number>;
  supersedes_file_id: number | null;
  run_id: number | null;
  fetched_at: ColumnType<Date, Date | string | undefined, Date | string>;
  /** As the source listed the file; null when it reports none, and on rows loaded before it was recorded. */
  remote_modified_at: Timestamp | null;
}

/** A settlement file the last fetch of its provider listed and left for the next fetch (src/settlement/left-files.ts). */
export interface SettlementFilesLeftTable {
  provider: string;
  remote_path: string;
  file_name: string;
  settlement_date: DateOnly | null;
  reason: string;
  /** When a fetch first left it (kept while fetches keep leaving it). */
  first_listed_at: Timestamp;
  /** When the fetch that last left it started. */
  listed_at: Timestamp;
  run_id: number | null;
}

export type SettlementKind =
  'payment' | 'refund' | 'chargeback' | 'chargeback_reversal' | 'fee' | 'adjustment';

export interface SettlementLinesTable {
  id: Generated<number>;
  file_id: number;
  line_no: number;
  provider: string;
  settlement_date: DateOnly;
  batch_id: string | null;
  kind: SettlementKind;
  transaction_id: string | null;
  payment_id: string | null;
  merchant_reference: string | null;
  transaction_time: Timestamp | null;
  currency: string;
  gross_minor: number;
  fee_minor: number;
  net_minor: number;
  raw: string;
}

export interface RejectedLinesTable {
  id: Generated<number>;
  file_id: number;
  line_no: number;
  reason: string;
  raw: string;
}

export interface RejectedRecordsTable {
  id: Generated<number>;
  provider: string;
  endpoint: string;
  window_from: Timestamp;
  window_to: Timestamp;
  record_id: string | null;
  gateway_type: string | null;
  referenced_id: string | null;
  hold_id: string | null;
  reason: string;
  raw: string;
  raw_hash: string;
  first_run_id: number | null;
  last_run_id: number | null;
  first_rejected_at: ColumnType<Date, Date | string | undefined, Date | string>;
  last_rejected_at: ColumnType<Date, Date | string | undefined, Date | string>;
  resolved_at: Timestamp | null;
  resolved_run_id: number | null;
  resolution: string | null;
}

/** A refund hold lifted by hand: see migrations/20261123110000_refund_hold_releases.ts. */
export interface RefundHoldReleasesTable {
  id: Generated<number>;
  rejected_record_id: number;
  released_by: string;
  reason: string;
  released_at: Timestamp;
}

export interface GatewayTransactionsTable {
  provider: string;
  transaction_id: string;
  gateway_type: string;
  kind: string;
  status: string;
  root_payment_id: string | null;
  referenced_id: string | null;
  merchant_reference: string | null;
  amount_minor: number | null;
  currency: string | null;
  transaction_time: Timestamp;
  brand: string | null;
  result_code: string | null;
  raw: Json;
  content_hash: string;
  first_seen_run_id: number | null;
  last_seen_run_id: number | null;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface PullWindowsTable {
  id: Generated<number>;
  run_id: number | null;
  provider: string;
  endpoint: string;
  window_from: Timestamp;
  window_to: Timestamp;
  record_count: number;
  pulled_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** An id a run asked a gateway about by itself, and how many records the answer held (0: unknown to it). */
export interface GatewayLookupsTable {
  id: Generated<number>;
  run_id: number | null;
  provider: string;
  transaction_id: string;
  record_count: number;
  /** The answer held a record that could not be read (kept in rejected_records): why. */
  rejected_reason: string | null;
  asked_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface DiscrepanciesTable {
  id: string;
  provider: string;
  type: string;
  transaction_id: string;
  payment_id: string | null;
  merchant_reference: string | null;
  transaction_time: Timestamp | null;
  settlement_date: DateOnly | null;
  currency: string | null;
  gateway_amount_minor: number | null;
  settled_amount_minor: number | null;
  difference_minor: number | null;
  refundable_minor: number | null;
  detail: ColumnType<string, string | undefined, string>;
  status: ColumnType<'open' | 'closed', 'open' | 'closed' | undefined>;
  opened_run_id: number | null;
  opened_at: ColumnType<Date, Date | string | undefined, Date | string>;
  last_seen_run_id: number | null;
  closed_run_id: number | null;
  closed_at: Timestamp | null;
  close_reason: string | null;
}

/** Finance's Action for a discrepancy, as imported from a report workbook; the latest row is the current one. */
export interface DiscrepancyDecisionsTable {
  id: Generated<number>;
  discrepancy_id: string;
  /** Null: finance withdrew the decision (cleared the Action the workbook started with). */
  action: 'REFUND' | 'IGNORE' | 'INVESTIGATE' | null;
  source_file: string;
  source_sha256: string;
  sheet: string;
  row_no: number;
  decided_at: ColumnType<Date, Date | string | undefined, Date | string>;
  /** The workbook's "Decisions shown up to": the last decision recorded when it was written; null when unknown. */
  workbook_decisions_shown: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface RunDiscrepanciesTable {
  run_id: number;
  discrepancy_id: string;
  change: 'opened' | 'unchanged' | 'reopened' | 'closed';
}

export type RefundState = 'planned' | 'sending' | 'succeeded' | 'failed' | 'unknown' | 'cancelled';

export interface RefundActionsTable {
  id: Generated<number>;
  idempotency_key: string;
  discrepancy_id: string;
  run_id: number | null;
  provider: string;
  payment_id: string;
  amount_minor: number;
  currency: string;
  state: ColumnType<RefundState, RefundState | undefined, RefundState>;
  gateway_refund_id: string | null;
  approved_by: string | null;
  approved_at: Timestamp | null;
  planned_at: ColumnType<Date, Date | string | undefined, Date | string>;
  sent_at: Timestamp | null;
  finished_at: Timestamp | null;
  last_error: string | null;
  verified_at: Timestamp | null;
  settled_line_id: number | null;
}

export interface RefundAttemptsTable {
  id: Generated<number>;
  refund_action_id: number;
  at: ColumnType<Date, Date | string | undefined, Date | string>;
  action: string;
  request: ColumnType<unknown, string | null | undefined, string | null>;
  response: ColumnType<unknown, string | null | undefined, string | null>;
  outcome: string;
}

export interface MatchesTable {
  settlement_line_id: number;
  provider: string;
  transaction_id: string;
  gateway_type: string;
  match_key: 'transaction_id' | 'merchant_reference';
  run_id: number | null;
  matched_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface RunAwaitingTable {
  run_id: number;
  provider: string;
  transaction_id: string;
  gateway_type: string;
  kind: string;
  merchant_reference: string | null;
  currency: string;
  amount_minor: number;
  transaction_time: Timestamp;
  deadline: DateOnly;
  /**
   * Set when the movement is past its deadline but a file that could hold its line was left unloaded by the run's
   * fetch: that file, its settlement date (null when its name gives none) and why the fetch left it.
   */
  held_file: string | null;
  held_date: DateOnly | null;
  held_reason: string | null;
}

export interface Database {
  runs: RunsTable;
  settlement_files: SettlementFilesTable;
  settlement_files_left: SettlementFilesLeftTable;
  settlement_lines: SettlementLinesTable;
  rejected_lines: RejectedLinesTable;
  rejected_records: RejectedRecordsTable;
  refund_hold_releases: RefundHoldReleasesTable;
  gateway_transactions: GatewayTransactionsTable;
  pull_windows: PullWindowsTable;
  gateway_lookups: GatewayLookupsTable;
  discrepancies: DiscrepanciesTable;
  run_discrepancies: RunDiscrepanciesTable;
  discrepancy_decisions: DiscrepancyDecisionsTable;
  refund_actions: RefundActionsTable;
  refund_attempts: RefundAttemptsTable;
  matches: MatchesTable;
  run_awaiting: RunAwaitingTable;
}
