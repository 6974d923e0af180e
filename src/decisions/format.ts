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
  if (r.recorded.REFUND > 0)
    lines.push(
      'REFUND rows are recorded only: `payrecon refunds execute --run ID --approval-file FILE` sends approved refunds',
    );
  return lines.join('\n');
}
