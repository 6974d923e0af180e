import type { ProviderName } from '../../config/schema.js';
import { addBusinessDays, dateOf } from './calendar.js';
import {
  chargebackFeeMinor,
  compileRule,
  expectedFeeMinor,
  type CompiledFee,
  type FeeSchedule,
} from './fees.js';
import type { FileBook, LineKind, LineSpec } from './files.js';
import type { Rng } from './prng.js';
import type { AnswerKeyEntry, AwaitingMovement, DiscrepancyType } from './types.js';
import { discrepancyId } from '../../reconcile/ids.js';

// The bookkeeping every scenario shares: where a money movement settles (or why it does not), and the answer key
// entries that follow. The rule it keeps: a normal movement settles on a business day 1..lag after its date and
// only in a file dated <= `to`; one that cannot is awaiting while asOf <= deadline, else missing_in_settlement.

/** One expected money movement on the gateway side, as matching.md values it (signed minor units). */
export interface Movement {
  provider: ProviderName;
  transactionId: string;
  /** PayUnity paymentType of the record; 'payment' / 'refund' for UseePay. */
  gatewayType: string;
  kind: LineKind;
  /** What the line's ReferencedId / payment_intent_id says. */
  lineRootId: string;
  merchantReference: string;
  timeMs: number;
  currency: string;
  amountMinor: number;
}

export interface LedgerOptions {
  from: string;
  to: string;
  asOf: string;
  lag: Record<ProviderName, number>;
  fees: FeeSchedule;
}

// The id format is an agreement between the matcher and the answer key, not matching logic the key re-derives.
export { discrepancyId };

export { dateOf };

export class Ledger {
  readonly key: AnswerKeyEntry[] = [];
  readonly awaiting: AwaitingMovement[] = [];
  private readonly fees = new Map<string, CompiledFee>();
  private readonly deadlines = new Map<string, string>();

  constructor(
    readonly opts: LedgerOptions,
    readonly rng: Rng,
    readonly book: FileBook,
  ) {
    for (const p of ['payunity', 'useepay'] as const) {
      for (const r of opts.fees[p])
        if (r.brand === undefined) this.fees.set(`${p}|${r.currency}`, compileRule(r));
    }
  }

  deadline(provider: ProviderName, date: string): string {
    const k = `${provider}|${date}`;
    let d = this.deadlines.get(k);
    if (d === undefined) this.deadlines.set(k, (d = addBusinessDays(date, this.opts.lag[provider])));
    return d;
  }

  feeRule(provider: ProviderName, currency: string): CompiledFee {
    const f = this.fees.get(`${provider}|${currency}`);
    if (!f) throw new Error(`no fee rule for ${provider} ${currency}`);
    return f;
  }

  /** The fee a line of this kind carries when nothing is planted on it. */
  normalFee(provider: ProviderName, kind: LineKind, currency: string, grossMinor: number): number {
    if (kind === 'payment') return expectedFeeMinor(this.feeRule(provider, currency), grossMinor);
    if (kind === 'chargeback') return chargebackFeeMinor(currency);
    return 0;
  }

  /** A settlement date within the lag and <= `to`, or null when the movement cannot settle inside the world. */
  pickSettlementDate(provider: ProviderName, date: string): string | null {
    const lag = this.opts.lag[provider];
    const s = addBusinessDays(date, this.rng.int(1, lag));
    if (s <= this.opts.to) return s;
    // Past its deadline by asOf, a movement that could still have settled by `to` does so: only movements that
    // truly have no business day left before `to` stay unsettled (and are missing when asOf is far past `to`).
    if (this.opts.asOf > this.deadline(provider, date)) {
      let k = 1;
      while (k < lag && addBusinessDays(date, k + 1) <= this.opts.to) k++;
      const early = addBusinessDays(date, this.rng.int(1, k));
      if (early <= this.opts.to) return early;
    }
    return null;
  }

  /** Settles a movement normally, or records it as awaiting / missing. */
  settle(m: Movement): void {
    const date = dateOf(m.timeMs);
    const s = this.pickSettlementDate(m.provider, date);
    if (s) this.line(m, s);
    else this.unsettled(m, false, 'left unsettled: no settlement file after `to` in this world');
  }

  /** Not settled: awaiting while asOf <= deadline, else a missing_in_settlement entry. */
  unsettled(m: Movement, planted: boolean, detail: string): void {
    const deadline = this.deadline(m.provider, dateOf(m.timeMs));
    if (this.opts.asOf <= deadline) {
      if (planted) throw new Error('planted missing_in_settlement inside its lag window');
      this.awaiting.push({
        provider: m.provider,
        transactionId: m.transactionId,
        amountMinor: m.amountMinor,
        currency: m.currency,
        deadline,
      });
      return;
    }
    this.entry(
      m.provider,
      'missing_in_settlement',
      m.transactionId,
      m.currency,
      m.amountMinor,
      null,
      planted,
      `${detail}; deadline ${deadline}`,
    );
  }

  line(
    m: Movement,
    settlementDate: string,
    over: Partial<Pick<LineSpec, 'currency' | 'grossMinor' | 'feeMinor' | 'transactionId'>> = {},
  ): LineSpec {
    const currency = over.currency ?? m.currency;
    const grossMinor = over.grossMinor ?? m.amountMinor;
    const spec: LineSpec = {
      provider: m.provider,
      settlementDate,
      kind: m.kind,
      gatewayType: m.gatewayType,
      transactionId: over.transactionId ?? m.transactionId,
      rootId: m.lineRootId,
      merchantReference: m.merchantReference,
      timeMs: m.timeMs,
      currency,
      grossMinor,
      feeMinor: over.feeMinor ?? this.normalFee(m.provider, m.kind, currency, grossMinor),
    };
    this.book.add(spec);
    return spec;
  }

  entry(
    provider: ProviderName,
    type: DiscrepancyType,
    transactionId: string,
    currency: string,
    gatewayAmountMinor: number | null,
    settledAmountMinor: number | null,
    planted: boolean,
    detail: string,
    extra: Partial<AnswerKeyEntry> = {},
  ): void {
    this.key.push({
      id: discrepancyId(provider, type, transactionId),
      provider,
      type,
      transactionId,
      currency,
      gatewayAmountMinor,
      settledAmountMinor,
      differenceMinor: differenceOf(type, gatewayAmountMinor, settledAmountMinor),
      planted,
      detail,
      ...extra,
    });
  }
}

/** docs/matching.md, "Amount conventions": settled − gateway; the excess for refund_exceeds_payment. */
export function differenceOf(
  type: DiscrepancyType,
  gateway: number | null,
  settled: number | null,
): number | null {
  if (type === 'currency_mismatch') return null;
  if (type === 'refund_exceeds_payment') return (gateway ?? 0) + (settled ?? 0);
  return (settled ?? 0) - (gateway ?? 0);
}
