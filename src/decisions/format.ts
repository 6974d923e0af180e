import type { DecisionImport } from './import.js';

/** Ids shown before "…" in a line that only counts them. */
const FEW = 5;

const few = (ids: readonly string[]) => ids.slice(0, FEW).join(', ') + (ids.length > FEW ? ', …' : '');

/**
 * The import as a person reads it: what was recorded, what was already so, every decision it changed or withdrew
 * (each on its own line: someone else may have recorded it), and what it does not do.
 */
export function formatDecisionImport(r: DecisionImport): string {
  if (r.rows === 0 && r.withdrawn === 0) return `${r.file}: no row has an Action; nothing recorded`;
  const parts = Object.entries(r.recorded)
    .filter(([, n]) => n > 0)
    .map(([action, n]) => `${action} ${n}`);
  const lines = [
    `${r.file}: ${r.rows} row(s) with an Action; recorded ${r.rows - r.unchanged} decision(s)${parts.length ? ` (${parts.join(', ')})` : ''}, ${r.unchanged} already so${r.withdrawn > 0 ? `; withdrew ${r.withdrawn} decision(s) whose Action was cleared` : ''}`,
  ];
  if (r.decisionsShownUpTo === null)
    lines.push(
      'the workbook does not say which decisions it was written with (no "Decisions shown up to" in its Run info): a cleared Action withdrew nothing',
    );
  if (r.replaced.length > 0) {
    lines.push(`changed ${r.replaced.length} earlier decision(s):`);
    for (const c of r.replaced)
      lines.push(
        `  ${c.discrepancyId} (${c.sheet} row ${c.row}): ${c.from.action} recorded from ${c.from.file} at ${c.from.decidedAt} -> ${c.to ?? 'withdrawn'}${c.newer ? ' (overruled: recorded after this workbook was written)' : ''}`,
      );
  }
  if (r.changedFigures.length > 0) {
    lines.push(
      `${r.changedFigures.length} decision(s) on figures that changed since the workbook was written:`,
    );
    for (const f of r.changedFigures)
      lines.push(
        `  ${f.discrepancyId} (${f.sheet} row ${f.row}, ${f.action ?? 'withdrawn'}): ${f.differences.join(', ')}`,
      );
  }
  if (r.keptNewer.length > 0)
    lines.push(
      `${r.keptNewer.length} row(s) still show the Action the workbook was written with; the decision recorded since stands: ${few(r.keptNewer)}`,
    );
  if (r.closed > 0) lines.push(`${r.closed} of them on discrepancies closed since`);
  if (r.neverRefunded.length > 0) {
    lines.push(
      `${r.neverRefunded.length} REFUND row(s) on discrepancies no refund can be planned for (not a refund candidate, or nothing to refund): ${few(r.neverRefunded)}; recorded, but nothing will be sent for them`,
    );
  }
  if (r.recorded.REFUND > 0)
    lines.push(
      'REFUND rows are recorded only: `payrecon refunds execute --run ID --approval-file FILE` sends approved refunds',
    );
  return lines.join('\n');
}
