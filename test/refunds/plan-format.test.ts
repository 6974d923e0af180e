// The plan's text as finance reads it: what a cap, or a missing one, means for `refunds execute`.
import { describe, expect, it } from 'vitest';
import { formatPlan } from '../../src/refunds/format.js';
import type { PlanAction, RefundPlan } from '../../src/refunds/types.js';

const action = (discrepancyId: string, amountMinor: number, currency: string): PlanAction => ({
  id: 1,
  idempotencyKey: `prc-${discrepancyId}-1`,
  discrepancyId,
  discrepancyType: 'duplicate_charge',
  provider: 'useepay',
  paymentId: '1026111700000001278',
  amountMinor,
  currency,
  state: 'planned',
  gatewayRefundId: null,
  lastError: null,
  held: null,
});

const plan = (caps: RefundPlan['caps']): RefundPlan => ({
  runId: 3,
  created: [],
  actions: [action('D0efa769473578401', 16940, 'JPY')],
  skipped: [],
  held: [],
  released: [],
  cancelled: [],
  caps,
});

describe('refund plan text: caps', () => {
  it('says that a currency without caps is refused until they are configured, not that it is over them', () => {
    const text = formatPlan(
      plan([
        {
          currency: 'JPY',
          maxPerRefundMinor: null,
          maxPerExecutionMinor: null,
          pendingMinor: 16940,
          heldMinor: 0,
          overPerRefund: ['D0efa769473578401'],
          overPerExecution: true,
        },
      ]),
    );
    expect(text).toContain(
      'JPY: pending 16940 JPY; caps per refund not configured, per execution not configured (execute refuses ' +
        'every JPY refund until refunds.maxPerRefund.JPY and refunds.maxPerExecution.JPY are configured)',
    );
    expect(text).not.toContain('over the');
  });

  it('names the refunds over a configured cap', () => {
    const text = formatPlan(
      plan([
        {
          currency: 'JPY',
          maxPerRefundMinor: 10000,
          maxPerExecutionMinor: 15000,
          pendingMinor: 16940,
          heldMinor: 0,
          overPerRefund: ['D0efa769473578401'],
          overPerExecution: true,
        },
      ]),
    );
    expect(text).toContain(
      'JPY: pending 16940 JPY; caps per refund 10000 JPY, per execution 15000 JPY (over the per-refund cap: ' +
        'D0efa769473578401; the total is over the per-execution cap)',
    );
  });
});
