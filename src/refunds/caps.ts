import type { Config } from '../config/schema.js';
import { ConfigError, UsageError } from '../shared/errors.js';
import { formatMinor, parseMajorToMinor } from '../shared/money.js';
import type { CurrencyCaps, PlanCapSummary, RefundActionView } from './types.js';

// Caps come from configuration in major-unit decimal text and are compared in minor units. A currency without a
// configured cap is refused rather than treated as unlimited: this is the only code that moves money.

export function capsFor(config: Config, currency: string): CurrencyCaps {
  return {
    currency,
    maxPerRefundMinor: capMinor(config, 'maxPerRefund', currency),
    maxPerExecutionMinor: capMinor(config, 'maxPerExecution', currency),
  };
}

function capMinor(config: Config, key: 'maxPerRefund' | 'maxPerExecution', currency: string): number | null {
  const text = config.refunds[key][currency];
  if (text === undefined) return null;
  try {
    return parseMajorToMinor(text, currency);
  } catch (e) {
    // e.g. 500.005 for EUR: more decimals than the currency has is a configuration error, never rounded
    throw new ConfigError(`refunds.${key}.${currency}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Per currency: the caps and how the given (pending) actions fare against them. `held`: actions a rejected gateway
 * record keeps back (execute refuses them), summed apart and counted against no cap until the hold lifts.
 */
export function summarizeCaps(
  config: Config,
  pending: readonly RefundActionView[],
  held: readonly RefundActionView[] = [],
): PlanCapSummary[] {
  const currencies = [...new Set([...pending, ...held].map((a) => a.currency))].sort();
  return currencies.map((currency) => {
    const caps = capsFor(config, currency);
    const mine = pending.filter((a) => a.currency === currency);
    const mineHeld = held.filter((a) => a.currency === currency);
    const pendingMinor = mine.reduce((s, a) => s + a.amountMinor, 0);
    return {
      ...caps,
      pendingMinor,
      heldMinor: mineHeld.reduce((s, a) => s + a.amountMinor, 0),
      // A held refund over the per-refund cap is flagged now, not first when its hold lifts: it will be refused.
      overPerRefund: [...mine, ...mineHeld]
        .filter((a) => caps.maxPerRefundMinor === null || a.amountMinor > caps.maxPerRefundMinor)
        .map((a) => a.discrepancyId),
      overPerExecution: caps.maxPerExecutionMinor === null || pendingMinor > caps.maxPerExecutionMinor,
    };
  });
}

/**
 * Throws a UsageError naming every breach when the batch may not be sent as a whole. Called before the first
 * gateway call, so a breach sends nothing.
 */
export function assertWithinCaps(config: Config, batch: readonly RefundActionView[]): void {
  const problems: string[] = [];
  for (const s of summarizeCaps(config, batch)) {
    const cur = s.currency;
    if (s.maxPerRefundMinor === null || s.maxPerExecutionMinor === null) {
      // Both named at once: set one, and the next attempt would only meet the other.
      const missing = missingCaps(s);
      problems.push(
        `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not configured: a currency without caps is never refunded`,
      );
      continue;
    }
    for (const a of batch.filter((x) => x.currency === cur && x.amountMinor > (s.maxPerRefundMinor ?? 0))) {
      problems.push(
        `${a.discrepancyId}: ${formatMinor(a.amountMinor, cur)} ${cur} exceeds refunds.maxPerRefund.${cur} (${formatMinor(s.maxPerRefundMinor, cur)})`,
      );
    }
    if (s.overPerExecution) {
      problems.push(
        `total ${formatMinor(s.pendingMinor, cur)} ${cur} exceeds refunds.maxPerExecution.${cur} (${formatMinor(s.maxPerExecutionMinor, cur)})`,
      );
    }
  }
  if (problems.length > 0)
    throw new UsageError(`refund caps exceeded, nothing was sent: ${problems.join('; ')}`);
}

/** The cap keys a currency lacks: while one is missing, execute refuses every refund in that currency. */
export function missingCaps(caps: CurrencyCaps): string[] {
  return [
    caps.maxPerRefundMinor === null ? `refunds.maxPerRefund.${caps.currency}` : null,
    caps.maxPerExecutionMinor === null ? `refunds.maxPerExecution.${caps.currency}` : null,
  ].filter((k): k is string => k !== null);
}
