import type { ProviderName } from '../config/schema.js';

/** The `Type` values of reports, in the order of docs/matching.md. */
export const DISCREPANCY_TYPES = [
  'missing_in_settlement',
  'missing_in_gateway',
  'currency_mismatch',
  'status_mismatch',
  'amount_mismatch',
  'duplicate_settlement',
  'duplicate_charge',
  'refund_exceeds_payment',
  'fee_mismatch',
] as const;
export type DiscrepancyType = (typeof DISCREPANCY_TYPES)[number];

export type MatchKey = 'transaction_id' | 'merchant_reference';

export interface MatchDeps {
  /**
   * Asks the gateway about transaction ids by id, and stores what it knows (an id it does not know is no error):
   * ids that settlement lines name but no stored record has, then root payments that records of the scope
   * reference but no stored record is (see lookUpUnknown). Called outside any database transaction, per provider
   * and round with ids to ask; `signal` aborts it with that provider's matching.
   */
  lookup?: (provider: ProviderName, ids: string[], signal: AbortSignal) => Promise<void>;
}

export interface AwaitingTotals {
  count: number;
  /** Per currency: how many movements and their signed sum in minor units. */
  byCurrency: Record<string, { count: number; amountMinor: number }>;
}

/**
 * A settlement file a fetch listed and left for the next fetch (unreadable, vanished, modified too recently, not the
 * size listed): the run's own fetch, or for a provider the run did not fetch, that provider's last fetch. While it is
 * unloaded, the movements of its provider whose line it could hold stay awaiting.
 */
export interface UnloadedSettlementFile {
  provider: ProviderName;
  /** From the file's name; null when its name gives no date (a custom profile): it may hold any movement. */
  settlementDate: string | null;
  file: string;
  /** Why the fetch left it, as the fetch said. */
  reason: string;
}

/** A left file and the movements past their deadline it holds awaiting (see UnloadedSettlementFile). */
export interface HeldByFile {
  provider: string;
  file: string;
  settlementDate: string | null;
  reason: string;
  /** How many movements it holds, and their signed sum per currency in minor units. */
  count: number;
  byCurrency: Record<string, { count: number; amountMinor: number }>;
  /** The sentence the Awaiting settlement sheet's Detail shows for each of them. */
  detail: string;
}

export interface MatchSummary {
  /** Settlement lines of the date range matched to a gateway record. */
  matched: number;
  matchedByKey: Record<MatchKey, number>;
  awaitingSettlement: AwaitingTotals;
  /** Of `awaitingSettlement`, the movements past their deadline held by a file left unloaded, per file. */
  awaitingHeld: HeldByFile[];
  /** Open discrepancies found by this run, per type (every type present, 0 when none). */
  discrepancies: Record<DiscrepancyType, number>;
  opened: number;
  closed: number;
  reopened: number;
  /** Transaction ids handed to `deps.lookup`, per provider. */
  lookedUp: Partial<Record<ProviderName, number>>;
}
