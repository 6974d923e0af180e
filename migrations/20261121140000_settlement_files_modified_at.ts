// settlement_files.remote_modified_at: the modification time the source listed the file with. Frozen once landed.
// Never import from src/.
//
// The fetch stage downloads a file dated outside the run's range only when it has not seen it before. By remote
// path and size alone, a corrected re-delivery that keeps the byte size (-10.00 became -15.00) looked seen and was
// never fetched. With the listed modification time, a file is skipped only when a row has the same path, size and
// time. Null: rows loaded before this column, and sources that report no time. A null row never makes a file that
// is listed with a time look seen: it is downloaded once and hashed (identical bytes load nothing and record the
// time on the row that has them).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table settlement_files add column remote_modified_at timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table settlement_files drop column remote_modified_at`.execute(db);
}
