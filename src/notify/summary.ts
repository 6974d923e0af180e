// The shape a notification carries: what `payrecon run --json` prints (interface.md), or a failure summary built
// by the scheduler when the run did not get that far.

export interface RunSummaryLateFile {
  provider: string;
  settlementDate: string;
  expectedBy?: string;
  /** 'late', or 'not_loaded': a file arrived and was left for the next fetch (its name is among `files`). */
  status?: string;
}

export interface RunSummary {
  runId?: number | null;
  from?: string;
  to?: string;
  /** 'succeeded' | 'failed' from the run; the scheduler adds nothing else. */
  status: string;
  reportPath?: string | null;
  providers?: string[];
  counts?: {
    matched?: number;
    awaitingSettlement?: number;
    rejectedLines?: number;
    rejectedRecords?: number;
    discrepancies?: Record<string, number>;
    [key: string]: unknown;
  };
  lateFiles?: RunSummaryLateFile[];
  /** Settlement files refused whole or corrected by the run (`payrecon run --json`'s `files`). */
  files?: { provider?: string; file?: string; what?: string; reason?: string }[];
  /** Set on failure: the one line the run printed about what failed. */
  error?: string;
  exitCode?: number | null;
  [key: string]: unknown;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * Items named in a notification before "and N more": a rerun of a past year can have thousands of dates without a
 * file, and a chat message or a mail subject of all of them helps no one (the workbook's Summary lists them all).
 */
export const LISTED = 10;

/** `items` joined, the first LISTED of them, then how many more. */
export function listed(items: readonly string[]): string {
  const more = items.length > LISTED ? ` and ${items.length - LISTED} more` : '';
  return items.slice(0, LISTED).join(', ') + more;
}

/** One line a person reads in a chat channel: who, which dates, outcome, what needs attention, where to look. */
export function summaryText(s: RunSummary): string {
  const who = s.providers && s.providers.length > 0 ? s.providers.join(', ') : 'all providers';
  const dates = s.from && s.to ? (s.from === s.to ? s.from : `${s.from}..${s.to}`) : 'unknown dates';
  const parts = [`payrecon ${s.runId != null ? `run ${s.runId} ` : ''}${who} ${dates}: ${s.status}`];
  if (s.status !== 'succeeded' && s.error) parts.push(s.error);
  const byType = Object.entries(s.counts?.discrepancies ?? {}).filter(
    ([, n]) => typeof n === 'number' && n > 0,
  );
  if (s.counts) {
    const total = byType.reduce((sum, [, n]) => sum + n, 0);
    parts.push(
      total === 0
        ? 'no discrepancies'
        : `${plural(total, 'discrepancy', 'discrepancies')} (${byType.map(([t, n]) => `${t} ${n}`).join(', ')})`,
    );
  }
  const rejectedLines = s.counts?.rejectedLines;
  if (typeof rejectedLines === 'number' && rejectedLines > 0)
    parts.push(
      `${plural(rejectedLines, 'settlement line')} rejected (not loaded; see the Rejected lines sheet)`,
    );
  const rejected = s.counts?.rejectedRecords;
  if (typeof rejected === 'number' && rejected > 0)
    parts.push(
      `${plural(rejected, 'gateway record')} rejected (not stored, see the workbook's Rejected lines; refunds they may concern are held)`,
    );
  const late = (s.lateFiles ?? []).filter((f) => f.status !== 'not_loaded');
  if (late.length > 0) {
    parts.push(
      `${plural(late.length, 'late settlement file')} (${listed(late.map((f) => `${f.provider} ${f.settlementDate}`))})`,
    );
  }
  const unloaded = (s.lateFiles ?? []).filter((f) => f.status === 'not_loaded');
  if (unloaded.length > 0) {
    parts.push(
      `${plural(unloaded.length, 'settlement date')} whose file arrived but is not loaded yet (${listed(unloaded.map((f) => `${f.provider} ${f.settlementDate}`))})`,
    );
  }
  const held = s.counts?.awaitingHeld;
  if (typeof held === 'number' && held > 0)
    parts.push(
      `${plural(held, 'movement')} past the settlement deadline still awaiting: a file that may settle them arrived and is not loaded yet`,
    );
  const overdue = s.counts?.overdueRefunds;
  if (typeof overdue === 'number' && overdue > 0)
    parts.push(`${plural(overdue, 'refund')} sent but not yet in a settlement file past the settlement lag`);
  const refused = (s.files ?? []).filter((f) => f.what === 'refused');
  if (refused.length > 0)
    parts.push(
      `${plural(refused.length, 'settlement file')} not loaded (${listed(refused.map((f) => `${f.provider ?? '?'} ${f.file ?? '?'}: ${f.reason ?? '?'}`))})`,
    );
  const corrected = (s.files ?? []).filter((f) => f.what === 'corrected');
  if (corrected.length > 0)
    parts.push(
      `${plural(corrected.length, 'corrected settlement file')} (${corrected.map((f) => `${f.provider ?? '?'} ${f.file ?? '?'}`).join(', ')})`,
    );
  if (s.reportPath) parts.push(`report ${s.reportPath}`);
  return parts.join('; ');
}
