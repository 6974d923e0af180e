// The Discrepancies sheet's Suggested action, from the type, the amounts, the latest refund action and finance's
// latest decision.
import { describe, expect, it } from 'vitest';
import { suggestedAction } from '../../src/report/sheets/discrepancies.js';

const row = (type: string, extra: Partial<Parameters<typeof suggestedAction>[0]> = {}) => ({
  type,
  gateway_amount_minor: 1000,
  difference_minor: 100,
  refundable_minor: 100,
  refund_state: null,
  decision: null,
  ...extra,
});

describe('suggestedAction', () => {
  it('REFUND for a refund candidate with something left, INVESTIGATE for the other types', () => {
    expect(
      [
        'status_mismatch',
        'duplicate_charge',
        'amount_mismatch',
        'currency_mismatch',
        'missing_in_gateway',
      ].map((t) => suggestedAction(row(t))),
    ).toEqual(['REFUND', 'REFUND', 'REFUND', 'INVESTIGATE', 'INVESTIGATE']);
    expect(suggestedAction(row('amount_mismatch', { difference_minor: -100 }))).toBe('INVESTIGATE');
    // A refund of 25.00 settled as 20.00: more reached the merchant, but there is no payment to refund from.
    expect(
      suggestedAction(row('amount_mismatch', { gateway_amount_minor: -2500, difference_minor: 500 })),
    ).toBe('INVESTIGATE');
    expect(suggestedAction(row('status_mismatch', { refundable_minor: 0 }))).toBe('INVESTIGATE');
    // A refund settled though the gateway says it failed: the money already went to the shopper.
    expect(
      suggestedAction(row('status_mismatch', { gateway_amount_minor: -400, refundable_minor: null })),
    ).toBe('INVESTIGATE');
  });

  it('follows the latest refund: REFUNDED, still REFUND while under way, INVESTIGATE once declined', () => {
    const states = ['succeeded', 'planned', 'sending', 'unknown', 'failed', 'cancelled'];
    expect(states.map((s) => suggestedAction(row('status_mismatch', { refund_state: s })))).toEqual([
      'REFUNDED',
      'REFUND',
      'REFUND',
      'REFUND',
      'INVESTIGATE',
      'INVESTIGATE',
    ]);
  });

  it('shows an IGNORE decision instead of suggesting a refund finance decided against; a refund done stays REFUNDED', () => {
    const states = [null, 'planned', 'sending', 'unknown', 'failed', 'cancelled', 'succeeded'];
    expect(
      states.map((s) => suggestedAction(row('duplicate_charge', { refund_state: s, decision: 'IGNORE' }))),
    ).toEqual(['IGNORE', 'IGNORE', 'IGNORE', 'IGNORE', 'IGNORE', 'IGNORE', 'REFUNDED']);
    expect(suggestedAction(row('currency_mismatch', { decision: 'IGNORE' }))).toBe('IGNORE');
    // Other decisions leave the suggestion to the figures: INVESTIGATE is still asking, REFUND is not carried.
    expect(suggestedAction(row('duplicate_charge', { decision: 'INVESTIGATE' }))).toBe('REFUND');
    expect(suggestedAction(row('duplicate_charge', { decision: 'REFUND' }))).toBe('REFUND');
  });

  it('INVESTIGATE while a rejected gateway record holds its refunds, unless refunded already or decided IGNORE', () => {
    expect(suggestedAction(row('duplicate_charge'), true)).toBe('INVESTIGATE');
    expect(suggestedAction(row('duplicate_charge', { refund_state: 'planned' }), true)).toBe('INVESTIGATE');
    expect(suggestedAction(row('duplicate_charge', { refund_state: 'succeeded' }), true)).toBe('REFUNDED');
    expect(suggestedAction(row('duplicate_charge', { decision: 'IGNORE' }), true)).toBe('IGNORE');
  });
});
