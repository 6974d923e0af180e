// Records finance's decisions from a report workbook: the Action chosen on each row of its Discrepancies sheets
// (reconciliation.md: "what the merchant decided to do about differences … recorded by this tool"). The whole
// workbook is checked before anything is written, and a workbook with any bad row records nothing.
import path from 'node:path';
import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import { idProblem, readActionRows, type ActionRow } from '../report/approval-reader.js';
import { latestDecision } from '../report/latest-decision.js';
import { ACTIONS, isAction } from '../report/sheets/discrepancies.js';
import { ruleAmountSql } from '../refunds/repository.js';
import { REFUND_CANDIDATE_TYPES } from '../refunds/types.js';
import { UsageError } from '../shared/errors.js';

export type DecisionAction = (typeof ACTIONS)[number];

export interface DecisionImport {
  /** The workbook as given, and its SHA-256. */
  file: string;
  sha256: string;
  /** Rows with an Action. */
  rows: number;
  /** New decisions, by action. */
  recorded: Record<DecisionAction, number>;
  /** Rows whose Action already is the discrepancy's decision. */
  unchanged: number;
  /** Of the rows with an Action, those whose discrepancy is closed by now (recorded all the same). */
  closed: number;
  /** Discrepancies decided REFUND that no refund can be planned for (not a candidate type, or nothing owed). */
  neverRefunded: string[];
}

/** Problems listed in the refusal before "and N more". */
const SHOWN = 20;

/** Records the Actions of workbook `file` (`read`: its rows, when the caller read it already). */
export async function importDecisions(
  db: Db,
  file: string,
  now: Date,
  read?: Awaited<ReturnType<typeof readActionRows>>,
): Promise<DecisionImport> {
  const { rows, sha256 } = read ?? (await readActionRows(file));
  const status = await statusOf(
    db,
    rows.map((r) => r.discrepancyId).filter((id) => id !== ''),
  );
  const problems = checkRows(rows, status);
  if (problems.length > 0) {
    const more = problems.length > SHOWN ? `; and ${problems.length - SHOWN} more` : '';
    throw new UsageError(
      `decisions refused, nothing was recorded: ${problems.slice(0, SHOWN).join('; ')}${more}`,
    );
  }
  const recorded = await record(db, rows, path.basename(file), sha256, now);
  const total = Object.values(recorded).reduce((a, b) => a + b, 0);
  return {
    file,
    sha256,
    rows: rows.length,
    recorded,
    unchanged: rows.length - total,
    closed: rows.filter((r) => status.get(r.discrepancyId)?.status === 'closed').length,
    neverRefunded: rows
      .filter((r) => r.action === 'REFUND' && status.get(r.discrepancyId)?.refundable === false)
      .map((r) => r.discrepancyId),
  };
}

/** Each row's problems, naming the sheet and row as Excel shows them. */
function checkRows(rows: readonly ActionRow[], status: ReadonlyMap<string, unknown>): string[] {
  const problems: string[] = [];
  const seen = new Map<string, ActionRow>();
  for (const r of rows) {
    const where = `${r.sheet} row ${r.row}`;
    if (!isAction(r.action))
      problems.push(`${where}: Action "${r.action}" is not one of ${ACTIONS.join(', ')}`);
    if (r.discrepancyId === '') {
      problems.push(`${where}: an Action without a Discrepancy ID`);
      continue;
    }
    const first = seen.get(r.discrepancyId);
    if (first) {
      problems.push(`${where}: ${r.discrepancyId} is also on ${first.sheet} row ${first.row}`);
      continue;
    }
    seen.set(r.discrepancyId, r);
    const wrongId = idProblem(r);
    // An id that became a number is unknown because of it: say that rather than "another database".
    if (!status.has(r.discrepancyId) && !r.idAsNumber)
      problems.push(`${where}: unknown discrepancy id ${r.discrepancyId} (a workbook of another database?)`);
    else if (wrongId) problems.push(`${where}: ${wrongId}`);
  }
  return problems;
}

/** Open or closed, and whether a refund could be planned for it, for the ids that name a discrepancy. */
async function statusOf(
  db: Db,
  ids: readonly string[],
): Promise<Map<string, { status: string; refundable: boolean }>> {
  if (ids.length === 0) return new Map();
  const { rows } = await sql<{ id: string; status: string; refundable: boolean }>`
    select d.id, d.status,
           d.type = any(${[...REFUND_CANDIDATE_TYPES]}::text[]) and d.currency is not null
             and coalesce(${ruleAmountSql}, 0) > 0 as refundable
      from discrepancies d where d.id = any(${ids}::text[])`.execute(db);
  return new Map(rows.map((r) => [r.id, { status: r.status, refundable: r.refundable }]));
}

/**
 * One statement: a row becomes a decision when its Action is not the discrepancy's latest decision, so the last
 * workbook imported holds, and importing one again records nothing. Imports take turns (the table lock), so two at
 * once cannot both add the same change.
 */
async function record(
  db: Db,
  rows: readonly ActionRow[],
  fileName: string,
  sha256: string,
  now: Date,
): Promise<Record<DecisionAction, number>> {
  const counts = Object.fromEntries(ACTIONS.map((a) => [a, 0])) as Record<DecisionAction, number>;
  if (rows.length === 0) return counts;
  const written = await db.transaction().execute(async (trx) => {
    await sql`lock table discrepancy_decisions in share row exclusive mode`.execute(trx);
    const { rows: out } = await sql<{ action: DecisionAction; n: number }>`
      with input as (
        select * from unnest(${rows.map((r) => r.discrepancyId)}::text[], ${rows.map((r) => r.action)}::text[],
          ${rows.map((r) => r.sheet)}::text[], ${rows.map((r) => r.row)}::int[]) as i(discrepancy_id, action, sheet, row_no)
      ),
      written as (
        insert into discrepancy_decisions (discrepancy_id, action, source_file, source_sha256, sheet, row_no, decided_at)
        select i.discrepancy_id, i.action, ${fileName}, ${sha256}, i.sheet, i.row_no, ${now}
        from input i
        left join lateral ${latestDecision(sql`i.discrepancy_id`)} cur on true
        where cur.action is distinct from i.action
        returning action
      )
      select action, count(*)::int as n from written group by action`.execute(trx);
    return out;
  });
  for (const w of written) counts[w.action] = w.n;
  return counts;
}
