// Two of gateway_transactions' indexes cost the pull more than their readers need. Frozen once landed. Never import
// from src/.
//
// Index maintenance is most of the server's work when the pull writes records. Measured copying a month of a
// million payments' records (1.15M rows, binary COPY, one session, three runs each): 14.3-15.3 s into the table
// as it was, 10.8-11.3 s with the two indexes below changed.
//
// - Transaction time: btree (provider, transaction_time) -> BRIN (transaction_time). Its readers select a range of
//   days (the matcher's window, the report's dates); none reads the records in time order. The pull writes a
//   provider's records day by day in time order, so each block range holds a narrow span of time and a BRIN costs
//   next to nothing per row, where the btree wrote every row to a leaf page. Ranges not summarised yet are always
//   read; autosummarize and the vacuum the match stage runs before it reads (src/db/maintenance.ts) summarise
//   them.
// - Merchant reference: its one reader (the matcher's scope: the payments of an open duplicate charge's merchant
//   reference, src/reconcile/scope.ts) looks only at payments and says `g.kind = 'payment'`, so the index keeps
//   just payments. Refunds, authorisations, reversals and chargebacks (a fifth of the records) cost it nothing.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop index gateway_transactions_time_idx;
    create index gateway_transactions_time_idx on gateway_transactions using brin (transaction_time)
      with (autosummarize = on);
    drop index gateway_transactions_ref_idx;
    create index gateway_transactions_ref_idx on gateway_transactions using hash (merchant_reference)
      where kind = 'payment';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop index gateway_transactions_ref_idx;
    create index gateway_transactions_ref_idx on gateway_transactions using hash (merchant_reference);
    drop index gateway_transactions_time_idx;
    create index gateway_transactions_time_idx on gateway_transactions (provider, transaction_time);
  `.execute(db);
}
