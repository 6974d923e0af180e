import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import type { StageSelection } from '../jobs/context.js';

export interface SettlementBatchCheck {
  provider: string;
  settlementDate: string;
  fileId: number;
  fileName: string;
  /** The file's batch id; null when the file gives none (the whole file is then one batch). */
  batchId: string | null;
  currency: string;
  lineCount: number;
  grossMinor: number;
  feeMinor: number;
  netMinor: number;
  /** Sum of the lines' net equals gross minus fees over every line of the batch, fee and adjustment lines included. */
  balanced: boolean;
}

/**
 * Per settlement batch and currency in the range (loaded files only): line count and gross, fee and net totals,
 * and whether the lines add up to the batch net (the Summary sheet's check). Fee and adjustment lines count.
 */
export async function settlementBatchChecks(db: Db, sel: StageSelection): Promise<SettlementBatchCheck[]> {
  if (sel.providers.length === 0) return [];
  const rows = await sql<{
    provider: string;
    settlement_date: string;
    file_id: number;
    file_name: string;
    batch_id: string | null;
    currency: string;
    line_count: number;
    gross: number;
    fee: number;
    net: number;
  }>`
    select sl.provider, sl.settlement_date, sl.file_id, f.file_name, sl.batch_id, sl.currency,
      count(*)::int as line_count, sum(sl.gross_minor)::bigint as gross, sum(sl.fee_minor)::bigint as fee,
      sum(sl.net_minor)::bigint as net
    from settlement_lines sl join settlement_files f on f.id = sl.file_id
    where f.status = 'loaded' and sl.provider = any (${sel.providers}::text[])
      and sl.settlement_date between ${sel.range.from}::date and ${sel.range.to}::date
    group by sl.provider, sl.settlement_date, sl.file_id, f.file_name, sl.batch_id, sl.currency
    order by sl.provider, sl.settlement_date, sl.file_id, sl.batch_id nulls first, sl.currency`.execute(db);
  return rows.rows.map((r) => ({
    provider: r.provider,
    settlementDate: r.settlement_date,
    fileId: r.file_id,
    fileName: r.file_name,
    batchId: r.batch_id,
    currency: r.currency,
    lineCount: r.line_count,
    grossMinor: r.gross,
    feeMinor: r.fee,
    netMinor: r.net,
    balanced: r.gross - r.fee === r.net,
  }));
}
