import { sql, type RawBuilder } from 'kysely';

// "Still refundable on the root payment" (reconciliation.md, "Corrective refunds"), as one SQL fragment shared by
// the planner and the executor's last check:
//
//   captured − refunded − charged back − refunds planned, sending, succeeded or unknown by payrecon
//
// over a CTE named `targets (provider, payment_id, currency)`. Choices (after the first, each errs towards refunding
// less):
// - captured is what the gateway says succeeded (a refund at the gateway can never exceed it); only when the gateway
//   captured nothing, what the settlement files paid out for the payment (read from the lines, or as the matcher
//   recorded it on a status_mismatch / duplicate_charge): a status_mismatch is a payment the gateway calls failed
//   although the money was settled, so the gateway alone would leave nothing to refund (as the matcher's cap,
//   docs/matching.md "Refund cap");
// - pending refunds at the gateway count as refunded (they may still go through);
// - a chargeback without an amount counts as charging back everything;
// - chargeback reversals are not added back (the contract's formula does not, and a reversal may itself be undone);
// - a gateway refund record that is one of our own actions is counted once, as our action;
// - settled amounts are found by the payment's own transaction id only (indexed): a capture settled under its own
//   id while the refund goes to its authorization finds nothing here, which refunds less, never more.
// Every lookup is an index probe per payment (see migrations/20261121065500_refund_lookups.ts).
export function remainingRefundableSql(excludeActionIds: readonly number[]): RawBuilder<unknown> {
  const exclude = sql`${excludeActionIds.length > 0 ? excludeActionIds : [0]}::bigint[]`;
  return sql`
    select t.provider, t.payment_id, t.currency,
      case when cb.amountless then 0::bigint
           else (case when gw.captured > 0 then gw.captured else greatest(st.settled, ds.settled) end
                 - rf.refunded - cb.charged_back - pr.by_payrecon)::bigint
      end as remaining
    from targets t
    cross join lateral (
      select coalesce(sum(g.amount_minor), 0)::bigint as captured
        from gateway_transactions g
       -- Off the payment (a capture): by the root index, which holds only records that reference another; the
       -- payment itself: by the primary key.
       where g.provider = t.provider
         and ((g.root_payment_id = t.payment_id and g.referenced_id is not null) or g.transaction_id = t.payment_id)
         and g.kind = 'payment' and g.status in ('succeeded', 'review') and g.currency = t.currency and g.amount_minor > 0
    ) gw
    cross join lateral (
      -- one line per settled transaction: a duplicated settlement line is a claim against the acquirer, not money
      -- the shopper paid twice
      select coalesce(sum(x.gross_minor), 0)::bigint as settled
        from (select distinct on (l.transaction_id) l.gross_minor
                from settlement_lines l
               where l.provider = t.provider and l.kind = 'payment' and l.currency = t.currency and l.gross_minor > 0
                 and l.transaction_id = t.payment_id
               order by l.transaction_id, l.settlement_date, l.id) x
    ) st
    cross join lateral (
      -- what the matcher recorded as settled for this payment, should its lines carry another payment id
      select coalesce(max(d.settled_amount_minor), 0)::bigint as settled
        from discrepancies d
       where d.provider = t.provider and d.currency = t.currency and d.settled_amount_minor > 0
         and d.type in ('status_mismatch', 'duplicate_charge') and d.transaction_id = t.payment_id
    ) ds
    cross join lateral (
      select coalesce(sum(-g.amount_minor), 0)::bigint as refunded
        from gateway_transactions g
       where g.provider = t.provider and g.root_payment_id = t.payment_id and g.referenced_id is not null
         and g.kind = 'refund'
         and g.status in ('succeeded', 'review', 'pending', 'pending_long')
         and not exists (select 1 from refund_actions a
                          where a.provider = g.provider and a.gateway_refund_id = g.transaction_id
                            and a.state in ('planned', 'sending', 'succeeded', 'unknown'))
    ) rf
    cross join lateral (
      select coalesce(sum(-g.amount_minor), 0)::bigint as charged_back, coalesce(bool_or(g.amount_minor is null), false) as amountless
        from gateway_transactions g
       where g.provider = t.provider and g.root_payment_id = t.payment_id and g.referenced_id is not null
         and g.kind = 'chargeback' and g.status = 'chargeback'
    ) cb
    cross join lateral (
      select coalesce(sum(a.amount_minor), 0)::bigint as by_payrecon
        from refund_actions a
       where a.provider = t.provider and a.payment_id = t.payment_id
         and a.state in ('planned', 'sending', 'succeeded', 'unknown') and a.id <> all(${exclude})
    ) pr`;
}
