// Awaiting settlement: movements the run found still inside their settlement lag window, and those past it held by a
// settlement file the run's fetch left unloaded, saying so in Detail (table run_awaiting).
import { sql } from 'kysely';
import { heldDetail } from '../../reconcile/held.js';
import { date, datetime, money } from '../cells.js';
import { localTime } from '../scope.js';
import { openSheet, type SheetSpec } from '../sheet-writer.js';
import type { SheetContext } from './types.js';

export const AWAITING_SHEET: SheetSpec = {
  name: 'Awaiting settlement',
  columns: [
    { header: 'Provider', width: 10 },
    { header: 'Kind', width: 20 },
    { header: 'Transaction ID', width: 36 },
    { header: 'Gateway type', width: 10 },
    { header: 'Merchant reference', width: 22 },
    { header: 'Transaction time', width: 20, align: 'center' },
    { header: 'Currency', width: 6, align: 'center' },
    { header: 'Amount', width: 16, align: 'right' },
    { header: 'Expected by', width: 12, align: 'center' },
    // Empty inside the lag; past it, why the movement is not missing_in_settlement yet.
    { header: 'Detail', width: 60 },
  ],
};

interface AwaitingRow {
  provider: string;
  kind: string;
  transaction_id: string;
  gateway_type: string;
  merchant_reference: string | null;
  transaction_local: string;
  currency: string;
  amount_minor: number;
  deadline: string;
  held_file: string | null;
  held_date: string | null;
  held_reason: string | null;
}

export async function writeAwaiting({ wb, snap, scope, maxRows, signal }: SheetContext): Promise<number> {
  const sheet = openSheet(wb, AWAITING_SHEET, maxRows, signal);
  const q = sql<AwaitingRow>`
    select provider, kind, transaction_id, gateway_type, merchant_reference,
      ${localTime(sql`transaction_time`, scope.timeZone)} as transaction_local, currency, amount_minor, deadline,
      held_file, held_date, held_reason
    from run_awaiting where run_id = ${scope.runId}
    order by provider, deadline, transaction_time, transaction_id`.compile(scope.db);
  for await (const r of snap.stream(q)) {
    await sheet.addRow([
      r.provider,
      r.kind,
      r.transaction_id,
      r.gateway_type,
      r.merchant_reference,
      datetime(r.transaction_local),
      r.currency,
      money(r.amount_minor, r.currency),
      date(r.deadline),
      r.held_file === null
        ? null
        : heldDetail({ file: r.held_file, settlementDate: r.held_date, reason: r.held_reason ?? '' }),
    ]);
  }
  sheet.close();
  return sheet.rowCount;
}
