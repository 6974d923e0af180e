import type { ProviderName } from '../../config/schema.js';
import type { SandboxCredentials, SandboxData } from '../data.js';
import type { FeeSchedule } from './fees.js';

export type DiscrepancyType =
  | 'missing_in_settlement'
  | 'missing_in_gateway'
  | 'amount_mismatch'
  | 'currency_mismatch'
  | 'status_mismatch'
  | 'duplicate_settlement'
  | 'duplicate_charge'
  | 'refund_exceeds_payment'
  | 'fee_mismatch';

export const DISCREPANCY_TYPES: readonly DiscrepancyType[] = [
  'missing_in_settlement',
  'missing_in_gateway',
  'amount_mismatch',
  'currency_mismatch',
  'status_mismatch',
  'duplicate_settlement',
  'duplicate_charge',
  'refund_exceeds_payment',
  'fee_mismatch',
];

export interface WorldOptions {
  seed: number;
  /** Transaction dates, 'YYYY-MM-DD', inclusive. */
  from: string;
  to: string;
  /** The world's "today" (UTC): must be >= to. Decides awaiting vs missing_in_settlement. */
  asOf: string;
  /** Root payments per provider per day (planted ones come on top). */
  paymentsPerDay: number;
  /** Default ['EUR', 'USD', 'JPY']. */
  currencies?: string[];
  providers?: ProviderName[];
  /** How many of each type to plant per provider; default 2 of each. */
  plant?: Partial<Record<DiscrepancyType, number>>;
  /** Business days; default payunity 3, useepay 2. Must be >= 1. */
  settlementLagDays?: Partial<Record<ProviderName, number>>;
  fees?: FeeSchedule;
  credentials?: SandboxCredentials;
  /** Gzip every settlement file (true) or about a third of them ('some'). Default false. */
  gzip?: boolean | 'some';
  /** Start UseePay files with a UTF-8 BOM: all (true) or every other one ('some'). Default false. */
  useepayBom?: boolean | 'some';
  /** Payment lines written without a transaction id (matched by merchant reference); per provider, default 2. */
  refOnlyLines?: number;
  /** Plant a payment that settles after its deadline in a file dated after `to` and `asOf`. Default true. */
  lateSettlement?: boolean;
  /**
   * PayUnity records repeated byte for byte later in the data, as the real query endpoint does (gateways.md:
   * de-duplicate on id and paymentType). Default 0.
   */
  repeatedRecords?: number;
}

export interface AnswerKeyEntry {
  /** 'D' + first 16 hex of sha256(`provider|type|transactionId`), as matching.md derives it. */
  id: string;
  provider: ProviderName;
  type: DiscrepancyType;
  /** The key per matching.md (root payment id for refund_exceeds_payment). */
  transactionId: string;
  /** The gateway's currency (the line's for missing_in_gateway and fee_mismatch). */
  currency: string;
  gatewayAmountMinor: number | null;
  settledAmountMinor: number | null;
  /**
   * settled − gateway, a missing side counted as 0 (for fee_mismatch: line fee − expected fee); null for
   * currency_mismatch, whose amounts are in two currencies.
   */
  differenceMinor: number | null;
  /** currency_mismatch only: the currency the line was settled in (its gross is `settledGrossMinor`). */
  settledCurrency?: string;
  /** currency_mismatch only: the line's gross, in `settledCurrency` (the settled amount is null: not in `currency`). */
  settledGrossMinor?: number;
  /** False for what follows from the world itself (a movement left unsettled past its deadline near `to`). */
  planted: boolean;
  /** What was done, for a human reading a failing test. */
  detail: string;
}

export interface AwaitingMovement {
  provider: ProviderName;
  transactionId: string;
  /** Signed minor units. */
  amountMinor: number;
  currency: string;
  /** The last business day it may settle on; awaiting while asOf <= deadline. */
  deadline: string;
}

export interface SettlementFile {
  provider: ProviderName;
  settlementDate: string;
  name: string;
  content: Buffer;
}

export interface LateSettlement {
  provider: ProviderName;
  transactionId: string;
  amountMinor: number;
  currency: string;
  deadline: string;
  /** The file that settles it late: dated after `to`, `asOf` and the deadline. Not in `settlementFiles`. */
  file: SettlementFile;
}

export interface WorldConfig {
  fees: FeeSchedule;
  settlementLagDays: Record<ProviderName, number>;
  timezone: 'UTC';
  holidays: string[];
}

export interface World {
  options: {
    seed: number;
    from: string;
    to: string;
    asOf: string;
    providers: ProviderName[];
    currencies: string[];
  };
  data: SandboxData;
  /** One file per provider per business day with settlements, dated within [from, to] (none after `to`). */
  settlementFiles: SettlementFile[];
  /**
   * Exactly the open discrepancies of a run over [from, to] (or any range ending between `to` and `asOf`) with the
   * clock at `asOf`, the time zone UTC, no holidays, this world's fee schedule and lags, and `settlementFiles`
   * loaded (the late file not).
   */
  answerKey: AnswerKeyEntry[];
  awaiting: AwaitingMovement[];
  lateSettled?: LateSettlement;
  config: WorldConfig;
  stats: { payunityRecords: number; useepayIntents: number; useepayRefunds: number; settlementLines: number };
}
