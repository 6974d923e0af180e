import type { RunResult } from './manifest.js';

/** Late or not-loaded settlement dates (and files not loaded, and files holding movements) named one by one. */
const LATE_LISTED = 20;

/** The few lines a person reads after `payrecon run` / `payrecon demo`. */
export function formatRunResult(r: RunResult): string {
  const lines = [
    `run ${r.runId} ${r.status}: ${r.from === r.to ? r.from : `${r.from} to ${r.to}`} (${r.providers.join(', ')})`,
  ];
  lines.push(
    `  matched ${r.counts.matched}, awaiting settlement ${r.counts.awaitingSettlement}, rejected lines ${r.counts.rejectedLines}` +
      (r.counts.rejectedRecords > 0 ? `, rejected gateway records ${r.counts.rejectedRecords}` : ''),
  );
  listed(
    lines,
    r.files.map((f) =>
      f.what === 'refused'
        ? `  settlement file not loaded: ${f.file} (${f.provider}): ${f.reason}`
        : `  settlement file corrected: ${f.file} (${f.provider}) ${f.reason}`,
    ),
    (n) => `  and ${n} more settlement files not loaded or corrected (listed in --json and the workbook)`,
  );
  // Past their deadline, yet not missing: the file that may settle them arrived and was left (listed above).
  listed(
    lines,
    r.awaitingHeld.map(
      (h) =>
        `  awaiting settlement past the deadline: ${h.count} of ${h.provider} held by ${h.file} (${h.settlementDate ?? 'no date in its name'}), not loaded yet`,
    ),
    (n) =>
      `  and ${n} more files not loaded yet holding movements awaiting (listed in --json and the workbook)`,
  );
  const d = Object.entries(r.counts.discrepancies).filter(([, n]) => n > 0);
  lines.push(
    d.length === 0 ? '  no discrepancies' : `  discrepancies: ${d.map(([t, n]) => `${t} ${n}`).join(', ')}`,
  );
  const overdue = r.counts.overdueRefunds;
  if (typeof overdue === 'number' && overdue > 0)
    lines.push(
      `  refunds sent but in no settlement file past the settlement lag: ${overdue} (listed in the workbook's Run info)`,
    );
  const lateFiles = r.lateFiles as {
    provider?: string;
    settlementDate?: string;
    expectedBy?: string;
    status?: string;
    files?: { file?: string }[];
  }[];
  // A rerun of a past year can have thousands of dates without a file: the first are named, the workbook's Summary
  // and `--json` list them all.
  for (const f of lateFiles.slice(0, LATE_LISTED)) {
    const which = `${f.provider ?? '?'} for ${f.settlementDate ?? '?'} (expected by ${f.expectedBy ?? '?'})`;
    // A file that arrived but was left for the next fetch is not "late": the sender delivered it.
    lines.push(
      f.status === 'not_loaded'
        ? `  settlement file arrived but not loaded yet: ${which}: ${(f.files ?? []).map((x) => x.file ?? '?').join(', ')}, see above`
        : `  late settlement file: ${which}`,
    );
  }
  if (lateFiles.length > LATE_LISTED)
    lines.push(
      `  and ${lateFiles.length - LATE_LISTED} more settlement dates late or not loaded (listed in the workbook's Summary and in --json)`,
    );
  if (r.reportPath) lines.push(`  report: ${r.reportPath}`);
  return lines.join('\n');
}

/** Appends the first LATE_LISTED of `items`, then one line saying how many more (a rerun of a year can have many). */
function listed(lines: string[], items: readonly string[], more: (n: number) => string): void {
  lines.push(...items.slice(0, LATE_LISTED));
  if (items.length > LATE_LISTED) lines.push(more(items.length - LATE_LISTED));
}
