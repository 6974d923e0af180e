import type { DecisionImport } from './import.js';

/** The import as a person reads it: what was recorded, what was already so, and what it does not do. */
export function formatDecisionImport(r: DecisionImport): string {
  const name = r.file;
  if (r.rows === 0) return `${name}: no row has an Action; nothing recorded`;
  const parts = Object.entries(r.recorded)
    .filter(([, n]) => n > 0)
    .map(([action, n]) => `${action} ${n}`);
  const total = Object.values(r.recorded).reduce((a, b) => a + b, 0);
  const lines = [
    `${name}: ${r.rows} row(s) with an Action; recorded ${total} decision(s)${parts.length ? ` (${parts.join(', ')})` : ''}, ${r.unchanged} already so`,
  ];
  if (r.closed > 0) lines.push(`${r.closed} of them on discrepancies closed since`);
  if (r.recorded.REFUND > 0)
    lines.push(
      'REFUND rows are recorded only: `payrecon refunds execute --run ID --approval-file FILE` sends approved refunds',
    );
  return lines.join('\n');
}
