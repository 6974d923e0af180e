import type { DecisionImport } from './import.js';

/** The import as a person reads it: what was recorded, what was already so, and what it does not do. */
export function formatDecisionImport(r: DecisionImport): string {
  if (r.rows === 0) return `${r.file}: no row has an Action; nothing recorded`;
  const parts = Object.entries(r.recorded)
    .filter(([, n]) => n > 0)
    .map(([action, n]) => `${action} ${n}`);
  const lines = [
    `${r.file}: ${r.rows} row(s) with an Action; recorded ${r.rows - r.unchanged} decision(s)${parts.length ? ` (${parts.join(', ')})` : ''}, ${r.unchanged} already so`,
  ];
  if (r.closed > 0) lines.push(`${r.closed} of them on discrepancies closed since`);
  if (r.neverRefunded.length > 0) {
    const ids = r.neverRefunded.slice(0, 5).join(', ') + (r.neverRefunded.length > 5 ? ', …' : '');
    lines.push(
      `${r.neverRefunded.length} REFUND row(s) on discrepancies no refund can be planned for (not a refund candidate, or nothing to refund): ${ids}; recorded, but nothing will be sent for them`,
    );
  }
  if (r.recorded.REFUND > 0)
    lines.push(
      'REFUND rows are recorded only: `payrecon refunds execute --run ID --approval-file FILE` sends approved refunds',
    );
  return lines.join('\n');
}
