// Records finance's decisions from a report workbook: the Action chosen on each row of its Discrepancies sheets
// (reconciliation.md: "what the merchant decided to do about differences … recorded by this tool"). The whole
// workbook is checked before anything is written, and a workbook with any bad row records nothing. Which rows are
// decisions is a three-way merge (./merge.ts): only what finance changed in the workbook is recorded, an Action it
// cleared withdraws the decision, and neither silently overrules a decision recorded after the workbook was written.
import path from 'node:path';
import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import { idProblem, readActionRows, type ActionRow } from '../report/approval-reader.js';
import { CARRIED_ACTIONS, decisionUpTo, latestDecision } from '../report/latest-decision.js';
import { ACTIONS, isAction } from '../report/sheets/discrepancies.js';
import { ruleAmountSql } from '../refunds/repository.js';
import { REFUND_CANDIDATE_TYPES } from '../refunds/types.js';
import { UsageError } from '../shared/errors.js';
import {
  mergeRows,
  type ChangedFigures,
  type DecisionAction,
  type DecisionState,
  type MergeOptions,
  type ReplacedDecision,
} from './merge.js';

export type { ChangedFigures, DecisionAction, ReplacedDecision } from './merge.js';

export interface DecisionImport {
  /** The workbook as given, and its SHA-256. */
  file: string;
  sha256: string;
  /** Its Run info's "Decisions shown up to" (null: it does not say, so every change of a decision is a newer one). */
  decisionsShownUpTo: number | null;
  /** Rows with an Action. */
  rows: number;
  /** New decisions, by action. */
  recorded: Record<DecisionAction, number>;
  /** Decisions withdrawn: an Action the workbook was written with, cleared. */
  withdrawn: number;
  /** Rows with an Action that recorded nothing (already so, or as the workbook was written). */
  unchanged: number;
  /** Of the rows with an Action, those whose discrepancy is closed by now (recorded all the same). */
  closed: number;
  /** Discrepancies decided REFUND that no refund can be planned for (not a candidate type, or nothing owed). */
  neverRefunded: string[];
  /** Every decision this import changed or withdrew: the old action, its workbook and time, the new action. */
  replaced: ReplacedDecision[];
  /** Decisions recorded on rows whose figures differ from the database's now. */
  changedFigures: ChangedFigures[];
  /** Rows still showing the Action the workbook was written with, whose newer decision recorded since stands. */
  keptNewer: string[];
}

/** What the import records anyway (see MergeOptions); neither by default. */
export type ImportOptions = Partial<MergeOptions>;

/** Problems listed in the refusal before "and N more". */
const SHOWN = 20;

/** Records the Actions of workbook `file`. */
export async function importDecisions(
  db: Db,
  file: string,
  now: Date,
  opts: ImportOptions = {},
): Promise<DecisionImport> {
  const merge: MergeOptions = {
    overruleNewer: opts.overruleNewer ?? false,
    acceptChangedFigures: opts.acceptChangedFigures ?? false,
  };
  const { rows, sha256, decisionsShownUpTo } = await readActionRows(file, 'workbook', {
    // An empty Action is read only where the workbook was written with one: clearing it withdraws that decision.
    blanks: async (upTo) => {
      const ids = upTo === null ? new Set<string>() : await carriedAsOf(db, upTo);
      return (id) => ids.has(id);
    },
  });
  const withAction = rows.filter((r) => r.action !== '');
  const result = await db.transaction().execute(async (trx) => {
    // Imports take turns: the state merged with is the state written over, and decision ids are in commit order.
    await sql`lock table discrepancy_decisions in share row exclusive mode`.execute(trx);
    const state = await stateOf(trx, rows, decisionsShownUpTo);
    const problems = checkRows(rows, state);
    const merged = problems.length === 0 ? mergeRows(rows, state, decisionsShownUpTo, merge) : undefined;
    if (merged) problems.push(...merged.problems);
    if (problems.length > 0 || !merged) throw refusal(problems, merged !== undefined);
    await insert(trx, merged.record, path.basename(file), sha256, decisionsShownUpTo, now);
    return { merged, state };
  });
  const { merged, state } = result;
  const recorded = Object.fromEntries(ACTIONS.map((a) => [a, 0])) as Record<DecisionAction, number>;
  for (const r of merged.record) if (r.action !== null) recorded[r.action]++;
  const withdrawn = merged.record.filter((r) => r.action === null).length;
  return {
    file,
    sha256,
    decisionsShownUpTo,
    rows: withAction.length,
    recorded,
    withdrawn,
    unchanged: withAction.length - (merged.record.length - withdrawn),
    closed: withAction.filter((r) => state.get(r.discrepancyId)?.status === 'closed').length,
    neverRefunded: withAction
      .filter((r) => r.action === 'REFUND' && state.get(r.discrepancyId)?.refundable === false)
      .map((r) => r.discrepancyId),
    replaced: merged.replaced,
    changedFigures: merged.changedFigures,
    keptNewer: merged.keptNewer,
  };
}

/** The refusal of the whole workbook; after the merge, with what would record it anyway. */
function refusal(problems: readonly string[], merged: boolean): UsageError {
  const more = problems.length > SHOWN ? `; and ${problems.length - SHOWN} more` : '';
  const hint = merged
    ? ". Decide on a workbook written since (`payrecon report --run ID` writes the run's again), or record these anyway with --overrule-newer (a decision recorded after the workbook was written) or --accept-changed-figures (REFUND or IGNORE on changed figures)"
    : '';
  return new UsageError(
    `decisions refused, nothing was recorded: ${problems.slice(0, SHOWN).join('; ')}${more}${hint}`,
  );
}

/** Each row's problems, naming the sheet and row as Excel shows them. */
function checkRows(rows: readonly ActionRow[], status: ReadonlyMap<string, unknown>): string[] {
  const problems: string[] = [];
  const seen = new Map<string, ActionRow>();
  for (const r of rows) {
    const where = `${r.sheet} row ${r.row}`;
    if (r.action !== '' && !isAction(r.action))
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

/** The discrepancies whose decision, once decision `upTo` was recorded, was one a workbook starts its Action with. */
async function carriedAsOf(db: Db, upTo: number): Promise<Set<string>> {
  const { rows } = await sql<{ discrepancy_id: string }>`
    select discrepancy_id from (
      select distinct on (discrepancy_id) discrepancy_id, action from discrepancy_decisions
       where id <= ${upTo}::bigint order by discrepancy_id, id desc
    ) l where l.action = any(${[...CARRIED_ACTIONS]}::text[])`.execute(db);
  return new Set(rows.map((r) => r.discrepancy_id));
}

type RowState = DecisionState & { status: string; refundable: boolean };

/**
 * For the ids that name a discrepancy: open or closed, whether a refund could be planned for it, its figures, and
 * its decisions now and as of the workbook's `upTo`.
 */
async function stateOf(
  db: Db,
  rows: readonly ActionRow[],
  upTo: number | null,
): Promise<Map<string, RowState>> {
  const ids = rows.map((r) => r.discrepancyId).filter((id) => id !== '');
  if (ids.length === 0) return new Map();
  const base = upTo === null ? sql`(select null::text as action)` : decisionUpTo(sql`d.id`, upTo);
  const { rows: out } = await sql<RowState & { id: string }>`
    select d.id, d.status, d.currency, d.gateway_amount_minor, d.settled_amount_minor, d.difference_minor,
           d.type = any(${[...REFUND_CANDIDATE_TYPES]}::text[]) and d.currency is not null
             and coalesce(${ruleAmountSql}, 0) > 0 as refundable,
           cur.id as cur_id, cur.action as cur_action, cur.source_file as cur_file, cur.decided_at as cur_at,
           base.action as base_action
      from discrepancies d
      left join lateral ${latestDecision(sql`d.id`)} cur on true
      left join lateral ${base} base on true
     where d.id = any(${ids}::text[])`.execute(db);
  return new Map(out.map(({ id, ...s }) => [id, { ...s, currency: s.currency?.trim() ?? null }]));
}

/** One statement for the rows the merge decided to record. */
async function insert(
  db: Db,
  rows: readonly { row: ActionRow; action: DecisionAction | null }[],
  fileName: string,
  sha256: string,
  shownUpTo: number | null,
  now: Date,
): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    insert into discrepancy_decisions
      (discrepancy_id, action, source_file, source_sha256, sheet, row_no, decided_at, workbook_decisions_shown)
    select i.discrepancy_id, i.action, ${fileName}, ${sha256}, i.sheet, i.row_no, ${now}, ${shownUpTo}::bigint
      from unnest(${rows.map((r) => r.row.discrepancyId)}::text[], ${rows.map((r) => r.action)}::text[],
        ${rows.map((r) => r.row.sheet)}::text[], ${rows.map((r) => r.row.row)}::int[])
        as i(discrepancy_id, action, sheet, row_no)`.execute(db);
}
