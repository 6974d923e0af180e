// What each workbook row means against the decisions recorded, as a three-way merge: the Action the workbook was
// written with (its base: the discrepancy's decision as of the workbook's "Decisions shown up to", when carried into
// the Action cell), the Action finance left in it, and the decision recorded now. Only a change finance made in the
// workbook is a decision; a change made over a decision recorded after the workbook was written overrules someone
// who decided on a newer workbook, and is refused unless asked for.
import type { ActionRow } from '../report/approval-reader.js';
import { CARRIED_ACTIONS } from '../report/latest-decision.js';
import { figureDifferences, type DbFigures } from '../report/row-figures.js';
import type { ACTIONS } from '../report/sheets/discrepancies.js';

export type DecisionAction = (typeof ACTIONS)[number];

/** What the database holds for a row's discrepancy when the import looks (under the decisions table lock). */
export interface DecisionState extends DbFigures {
  /** The latest decision: its id, action (null: withdrawn), workbook and time; null when never decided. */
  cur_id: number | null;
  cur_action: DecisionAction | null;
  cur_file: string | null;
  cur_at: Date | null;
  /** The decision as of the workbook's decisionsShownUpTo (null: none then, or the workbook does not say). */
  base_action: DecisionAction | null;
}

/** A decision that a row changes or withdraws. */
export interface ReplacedDecision {
  discrepancyId: string;
  sheet: string;
  row: number;
  from: { action: DecisionAction; file: string; decidedAt: string };
  /** The new action; null: withdrawn. */
  to: DecisionAction | null;
  /** Recorded after the workbook was written, or the workbook does not say when it was written. */
  newer: boolean;
}

/** A decision taken on figures that differ from the database's now. */
export interface ChangedFigures {
  discrepancyId: string;
  sheet: string;
  row: number;
  /** The new action; null: withdrawn. */
  action: DecisionAction | null;
  differences: string[];
}

export interface MergeOptions {
  /** Record Actions changed in the workbook over decisions recorded after it was written. */
  overruleNewer: boolean;
  /** Record REFUND and IGNORE on rows whose figures differ from the database's now. */
  acceptChangedFigures: boolean;
}

export interface Merge {
  /** The rows to record, with the action (null: a withdrawal). */
  record: { row: ActionRow; action: DecisionAction | null }[];
  replaced: ReplacedDecision[];
  changedFigures: ChangedFigures[];
  /** Rows left as the workbook was written while a newer decision was recorded: the newer one stands. */
  keptNewer: string[];
  /** Rows that refuse the workbook: a change over a newer decision, or REFUND / IGNORE on changed figures. */
  problems: string[];
}

/** The actions whose decision on changed figures refuses the workbook: they decide whether money moves. */
const MONEY_ACTIONS: ReadonlySet<string> = new Set(['REFUND', 'IGNORE']);

/**
 * Merges rows (checked already: known ids, valid Actions, each id once) whose workbook was written with decisions up
 * to `shownUpTo` (null: unknown) with the recorded state of each.
 */
export function mergeRows(
  rows: readonly ActionRow[],
  state: ReadonlyMap<string, DecisionState>,
  shownUpTo: number | null,
  opts: MergeOptions,
): Merge {
  const out: Merge = { record: [], replaced: [], changedFigures: [], keptNewer: [], problems: [] };
  for (const row of rows) {
    const s = state.get(row.discrepancyId);
    if (!s) continue;
    const cell = row.action === '' ? null : (row.action as DecisionAction);
    const where = `${row.sheet} row ${row.row} (${row.discrepancyId})`;
    if (shownUpTo !== null && cell === carried(s.base_action)) {
      // As the workbook was written: finance decided nothing here. A decision recorded since stands.
      if (s.cur_action !== s.base_action) out.keptNewer.push(row.discrepancyId);
      continue;
    }
    if (cell === s.cur_action) continue;
    const newer = s.cur_id !== null && (shownUpTo === null || s.cur_id > shownUpTo);
    if (newer && !opts.overruleNewer)
      out.problems.push(
        `${where}: ${cell ?? 'the cleared Action'} would overrule ${s.cur_action ?? 'the withdrawal of its decision'}, recorded from ${s.cur_file ?? '?'} at ${iso(s.cur_at)} ${
          shownUpTo === null
            ? '(this workbook does not say when it was written)'
            : 'after this workbook was written'
        }`,
      );
    const differences = figureDifferences(row, s).map((f) => f.text);
    if (differences.length > 0) {
      out.changedFigures.push({
        discrepancyId: row.discrepancyId,
        sheet: row.sheet,
        row: row.row,
        action: cell,
        differences,
      });
      if (cell !== null && MONEY_ACTIONS.has(cell) && !opts.acceptChangedFigures)
        out.problems.push(
          `${where}: ${cell} decided on figures that changed since: ${differences.join(', ')}`,
        );
    }
    out.record.push({ row, action: cell });
    if (s.cur_action !== null)
      out.replaced.push({
        discrepancyId: row.discrepancyId,
        sheet: row.sheet,
        row: row.row,
        from: { action: s.cur_action, file: s.cur_file ?? '', decidedAt: iso(s.cur_at) },
        to: cell,
        newer,
      });
  }
  return out;
}

/** The Action a workbook was written with for a decision (see CARRIED_ACTIONS): REFUND is never carried. */
export function carried(action: DecisionAction | null): DecisionAction | null {
  return action !== null && CARRIED_ACTIONS.includes(action) ? action : null;
}

/** A recorded time as ISO 8601 in UTC, to the second. */
export function iso(at: Date | null): string {
  return at ? at.toISOString().replace(/\.\d{3}Z$/, 'Z') : '?';
}
