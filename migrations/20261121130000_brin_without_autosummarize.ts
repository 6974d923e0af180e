// The two BRIN indexes stop asking autovacuum to summarise each new block range. Frozen once landed. Never import
// from src/.
//
// With autosummarize, the insert that starts a block range queues a request for autovacuum. The queue has 256 places
// and is only worked through when an autovacuum worker visits the database (once a minute by default). A pull of a
// month of a million payments fills about a thousand ranges of gateway_transactions in under half a minute, and
// each request that does not fit writes a line to the server's log: 596-829 lines of "request for BRIN range
// summarization ... was not recorded" per pull, in the log of the user's server. Loading more than about 700,000
// settlement lines (256 ranges) between two visits does the same. The requests bought nothing:
// - the loader summarises each file's new ranges before it commits (src/settlement/load.ts);
// - the match stage vacuums both tables before it reads them (src/db/maintenance.ts), and the vacuum summarises every
//   full range.
// Until a range is summarised, every query that uses the index reads it, so queries stay correct meanwhile.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter index gateway_transactions_time_idx set (autosummarize = off);
    alter index settlement_lines_file_date_idx set (autosummarize = off);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter index gateway_transactions_time_idx set (autosummarize = on);
    alter index settlement_lines_file_date_idx set (autosummarize = on);
  `.execute(db);
}
