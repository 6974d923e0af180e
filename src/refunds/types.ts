import type { ProviderName } from '../config/schema.js';
import type { RefundState } from '../db/schema.js';
import type { GatewayClient } from '../gateways/types.js';

// Domain types of the refund planner, executor and verifier. Amounts are integer minor units with their currency.

/** The discrepancy types that may become a corrective refund (docs/matching.md, "Refund candidates"). */
export const REFUND_CANDIDATE_TYPES = ['status_mismatch', 'duplicate_charge', 'amount_mismatch'] as const;

export interface RefundActionView {
  id: number;
  idempotencyKey: string;
  discrepancyId: string;
  discrepancyType: string;
  provider: ProviderName;
  paymentId: string;
  amountMinor: number;
  currency: string;
  state: RefundState;
  gatewayRefundId: string | null;
  lastError: string | null;
}

export interface CurrencyCaps {
  currency: string;
  /** Null when the configuration sets no cap for this currency: such refunds are refused, never uncapped. */
  maxPerRefundMinor: number | null;
  maxPerExecutionMinor: number | null;
}

export interface PlanCapSummary extends CurrencyCaps {
  /** Sum of the actions still waiting to be sent (planned, or to be recovered), held ones excluded. */
  pendingMinor: number;
  /** Sum of the actions held by a rejected gateway record: counted against no cap until the hold lifts. */
  heldMinor: number;
  /** Discrepancy ids whose amount exceeds the per-refund cap. */
  overPerRefund: string[];
  /** Whether executing every pending action at once would exceed the per-execution cap. */
  overPerExecution: boolean;
}

export interface SkippedCandidate {
  discrepancyId: string;
  reason: string;
}

/** A refund candidate not proposed because a rejected gateway record may concern its payment (holds.ts). */
export interface HeldCandidate {
  discrepancyId: string;
  reason: string;
  /** The rejected_records row that holds it (what `payrecon refunds release-hold` takes). */
  rejectionId: number;
}

/** Why an action may not be sent now: a rejected gateway record may concern its payment (holds.ts). */
export interface ActionHold {
  rejectionId: number;
  reason: string;
}

/** An action as the plan lists it: held while a rejected record may concern its payment, never cancelled for it. */
export interface PlanAction extends RefundActionView {
  held: ActionHold | null;
}

/** A refund (candidate or action) that a released hold would otherwise keep back: shown, so finance sees why. */
export interface ReleasedHoldNote {
  discrepancyId: string;
  rejectionId: number;
  reason: string;
}

export interface RefundPlan {
  runId: number;
  /** Actions inserted by this call. */
  created: PlanAction[];
  /**
   * Every live action of the run's discrepancies, new or earlier (what `execute` can be asked to send), each with
   * its hold when a rejected gateway record keeps it back (execute refuses it until the hold lifts).
   */
  actions: PlanAction[];
  skipped: SkippedCandidate[];
  /** Candidates held back while a rejected gateway record may be a refund or chargeback of their payment. */
  held: HeldCandidate[];
  /** Candidates and actions that a hold released by hand would otherwise keep back. */
  released: ReleasedHoldNote[];
  /** Per currency; held actions count against no cap (heldMinor says how much waits). */
  caps: PlanCapSummary[];
  /**
   * Planned refunds this call cancelled before sending, and why: their discrepancy closed, now calls for less, or
   * was decided IGNORE. Any run's: a plan for one run cancels every stale one.
   */
  cancelled: { discrepancyId: string; reason: string }[];
}

/** Explicit approval: discrepancy ids, or the finance workbook with REFUND in the Action column. */
export type Approval = { ids: string[] } | { workbook: string };

export interface RefundDeps {
  clientFor(provider: ProviderName): GatewayClient;
  /** Called once with what is about to be sent, before the first gateway call (the CLI prints it). */
  announce?: (toSend: RefundActionView[]) => void;
  /** Who approved (a person), stored on the actions after the approval's source: `<source> by <who>`. */
  approvedBy?: string;
}

export type ExecutedHow = 'sent' | 'found_at_gateway' | 'already_succeeded' | 'not_sent';

export interface ExecutedAction extends RefundActionView {
  how: ExecutedHow;
}

export interface ExecutionResult {
  runId: number;
  approvedBy: string;
  actions: ExecutedAction[];
  counts: Record<RefundState, number> & { sent: number };
  /** Sum sent per currency (minor units). */
  sentMinor: Record<string, number>;
  /** True when the process was asked to stop before every action was handled. */
  interrupted: boolean;
}

export interface UnverifiedRefund {
  actionId: number;
  idempotencyKey: string;
  provider: ProviderName;
  gatewayRefundId: string | null;
  amountMinor: number;
  currency: string;
  finishedAt: Date | null;
  /** The business day after which the refund should have appeared in a settlement file. */
  dueBy: string;
}

export interface VerifyResult {
  /** Actions left in sending/unknown that the gateway turned out to have (now succeeded or failed). */
  resolvedInFlight: number;
  checkedAtGateway: number;
  verifiedAtGateway: number;
  /** Refunds the gateway now reports as failed (state set to failed). */
  failedAtGateway: number;
  settled: number;
  /** Succeeded refunds not seen in any settlement file past the provider's settlement lag. */
  overdue: UnverifiedRefund[];
}
