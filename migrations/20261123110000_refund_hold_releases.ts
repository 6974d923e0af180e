// Refund holds lifted by hand. A rejected gateway record holds refunds of the payment it names (every payment of
// its provider when it names none) until a later pull stores it or no longer meets it; a gateway that keeps sending
// the same unreadable record, or a lookup nobody repeats, would hold them for ever. A row here records that a
// person (released_by) decided, for a stated reason, that this rejected record holds no refunds. Frozen once
// landed. Never import from src/.
//
// One release per rejected_records row (the unique key makes releasing twice a no-op): the row is one record text
// in one endpoint window, so a re-pull meeting the same text stays released, while a new rejection (other text,
// another window, another lookup) is a new row and holds again.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table refund_hold_releases (
      id bigserial primary key,
      rejected_record_id bigint not null unique references rejected_records (id) on delete cascade,
      released_by text not null check (btrim(released_by) <> ''),
      reason text not null check (btrim(reason) <> ''),
      released_at timestamptz not null
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table refund_hold_releases`.execute(db);
}
