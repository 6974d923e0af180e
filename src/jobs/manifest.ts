import type { ProviderName } from '../config/schema.js';
import type { HeldByFile } from '../reconcile/types.js';

/** What a run records about itself (runs.manifest): enough to trace every figure to its inputs. */
export interface RunManifest {
  range: { from: string; to: string };
  providers: ProviderName[];
  toolVersion: string;
  asOf: string;
  stages: Partial<
    Record<StageName, { startedAt: string; ms: number; status: 'succeeded' | 'failed' | 'skipped' }>
  >;
  files: unknown[];
  windows: unknown[];
  lateFiles: unknown[];
  refundChecks?: unknown;
}

export type StageName = 'fetch' | 'pull' | 'match' | 'verify' | 'report';

/** runs.counts, and the `counts` of `payrecon run --json` (interface.md). */
export interface RunCounts {
  matched: number;
  awaitingSettlement: number;
  rejectedLines: number;
  /** Gateway records rejected by this run's pulls, and those of its dates still unresolved (rejected_records). */
  rejectedRecords: number;
  discrepancies: Record<string, number>;
  [extra: string]: unknown;
}

/** A settlement file this run did not load as delivered, or that replaced an earlier version (the run says so). */
export interface NotedFile {
  provider: ProviderName;
  file: string;
  /** refused: never loaded (rejected whole, an unsafe name, or a copy of a loaded file); corrected: replaced one. */
  what: 'refused' | 'corrected';
  reason: string;
}

export interface RunResult {
  runId: number;
  from: string;
  to: string;
  status: 'succeeded' | 'failed';
  reportPath: string | null;
  counts: RunCounts;
  providers: ProviderName[];
  lateFiles: unknown[];
  /** Files refused whole or corrected by this run's fetch (empty when it did not fetch). */
  files: NotedFile[];
  /**
   * Files left for the next fetch (by this run's fetch; for a provider it did not fetch, by that provider's last
   * fetch) that hold movements past their deadline awaiting (instead of missing_in_settlement), with how many and
   * why (counted in `counts.awaitingSettlement` and `counts.awaitingHeld`).
   */
  awaitingHeld: HeldByFile[];
  error?: string;
}
