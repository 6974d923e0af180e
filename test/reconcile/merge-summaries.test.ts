// Each provider is matched in a transaction of its own; the stage reports their summaries as one.
import { describe, expect, it } from 'vitest';
import { mergeSummaries } from '../../src/reconcile/match-range.js';
import { DISCREPANCY_TYPES, type MatchSummary } from '../../src/reconcile/types.js';

const zero = Object.fromEntries(DISCREPANCY_TYPES.map((t) => [t, 0])) as MatchSummary['discrepancies'];

const held = {
  provider: 'payunity',
  file: 'PAYUNITY_SETTLEMENT_E_20261119.csv',
  settlementDate: '2026-11-19',
  reason: 'permission denied: not loaded; the next fetch takes it again',
  count: 1,
  byCurrency: { EUR: { count: 1, amountMinor: 1000 } },
  detail: 'held',
};

const payunity: MatchSummary = {
  matched: 10,
  matchedByKey: { transaction_id: 9, merchant_reference: 1 },
  awaitingSettlement: {
    count: 3,
    byCurrency: { EUR: { count: 2, amountMinor: 1500 }, USD: { count: 1, amountMinor: -200 } },
  },
  awaitingHeld: [held],
  discrepancies: { ...zero, amount_mismatch: 2, fee_mismatch: 1 },
  opened: 3,
  closed: 1,
  reopened: 0,
  lookedUp: { payunity: 4 },
};
const useepay: MatchSummary = {
  matched: 5,
  matchedByKey: { transaction_id: 5, merchant_reference: 0 },
  awaitingSettlement: { count: 2, byCurrency: { EUR: { count: 2, amountMinor: 700 } } },
  awaitingHeld: [],
  discrepancies: { ...zero, amount_mismatch: 1, missing_in_gateway: 4 },
  opened: 5,
  closed: 0,
  reopened: 2,
  lookedUp: {},
};

describe('mergeSummaries', () => {
  it('adds the counts, merges the per-currency awaiting totals, and keeps every type', () => {
    expect(mergeSummaries([payunity, useepay])).toEqual({
      matched: 15,
      matchedByKey: { transaction_id: 14, merchant_reference: 1 },
      awaitingSettlement: {
        count: 5,
        byCurrency: { EUR: { count: 4, amountMinor: 2200 }, USD: { count: 1, amountMinor: -200 } },
      },
      awaitingHeld: [held],
      discrepancies: { ...zero, amount_mismatch: 3, fee_mismatch: 1, missing_in_gateway: 4 },
      opened: 8,
      closed: 1,
      reopened: 2,
      lookedUp: { payunity: 4 },
    });
    // The inputs are left as they were.
    expect(payunity.awaitingSettlement.byCurrency.EUR).toEqual({ count: 2, amountMinor: 1500 });
  });

  it('is an empty summary for no providers', () => {
    expect(mergeSummaries([])).toMatchObject({
      matched: 0,
      awaitingHeld: [],
      discrepancies: zero,
      lookedUp: {},
    });
  });
});
