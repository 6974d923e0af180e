import { formatMinor } from '../shared/money.js';
import { missingCaps } from './caps.js';
import type { ExecutionResult, RefundActionView, RefundPlan } from './types.js';

// Human text for the CLI (the --json output is the result objects themselves).

const money = (minor: number | null, currency: string) =>
  minor === null ? 'not configured' : `${formatMinor(minor, currency)} ${currency}`;

function line(a: RefundActionView): string {
  return `${a.discrepancyId}  ${a.provider}  payment ${a.paymentId}  ${formatMinor(a.amountMinor, a.currency)} ${a.currency}  ${a.state}  (${a.discrepancyType}, key ${a.idempotencyKey})`;
}

export function formatPlan(p: RefundPlan): string {
  const out = [`Refund plan for run ${p.runId}: ${p.created.length} new, ${p.actions.length} in total`];
  for (const a of p.actions) {
    out.push(`  ${p.created.some((c) => c.id === a.id) ? 'new ' : '    '}${line(a)}`);
    // Kept as planned (and as approved), counted against no cap, refused by execute until the hold lifts.
    if (a.held) out.push(`      held (${a.state}, not sent until the hold lifts): ${a.held.reason}`);
  }
  for (const s of p.skipped) out.push(`  skipped ${s.discrepancyId}: ${s.reason}`);
  for (const h of p.held) out.push(`  held ${h.discrepancyId}: ${h.reason}`);
  for (const r of p.released) out.push(`  not held ${r.discrepancyId}: ${r.reason}`);
  for (const c of p.cancelled) out.push(`  cancelled ${c.discrepancyId}: ${c.reason}`);
  for (const c of p.caps) {
    // A missing cap is no limit exceeded: execute refuses the currency until it is configured.
    const missing = missingCaps(c);
    const flags = [
      missing.length > 0
        ? `execute refuses every ${c.currency} refund until ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} configured`
        : '',
      missing.length === 0 && c.overPerRefund.length > 0
        ? `over the per-refund cap: ${c.overPerRefund.join(', ')}`
        : '',
      missing.length === 0 && c.overPerExecution ? 'the total is over the per-execution cap' : '',
      c.heldMinor > 0 ? `${money(c.heldMinor, c.currency)} more held, counted against no cap` : '',
    ].filter(Boolean);
    out.push(
      `  ${c.currency}: pending ${money(c.pendingMinor, c.currency)}; caps per refund ${money(c.maxPerRefundMinor, c.currency)}, per execution ${money(c.maxPerExecutionMinor, c.currency)}${flags.length > 0 ? ` (${flags.join('; ')})` : ''}`,
    );
  }
  if (p.actions.some((a) => a.state === 'planned' && a.held === null)) {
    out.push(
      `Nothing was sent. To send: payrecon refunds execute --run ${p.runId} --approve <ids…> (or --approval-file <report.xlsx>)`,
    );
  }
  if (p.held.length > 0 || p.actions.some((a) => a.held !== null)) {
    out.push(
      'Held refunds wait for a later pull to read the rejected record; see `payrecon refunds holds`, and release one by hand with `payrecon refunds release-hold <rejection> --reason …`',
    );
  }
  return out.join('\n');
}

export function formatToSend(actions: readonly RefundActionView[]): string {
  if (actions.length === 0) return 'Nothing to send.';
  return [
    `Sending ${actions.length} refund(s):`,
    ...actions.map(
      (a) =>
        `  ${a.provider}  payment ${a.paymentId}  ${formatMinor(a.amountMinor, a.currency)} ${a.currency}  (${a.discrepancyId}${a.state === 'planned' ? '' : `, was ${a.state}: looked up first`})`,
    ),
  ].join('\n');
}

export function formatExecution(r: ExecutionResult): string {
  const out = [
    `Refunds for run ${r.runId}: ${r.counts.sent} sent, ${r.counts.succeeded} succeeded, ${r.counts.failed} failed, ${r.counts.unknown} unknown${r.interrupted ? ' (interrupted)' : ''}`,
  ];
  for (const a of r.actions) {
    out.push(
      `  ${line(a)}  ${a.how.replace(/_/g, ' ')}${a.gatewayRefundId ? `  refund ${a.gatewayRefundId}` : ''}${a.lastError ? `  ${a.lastError}` : ''}`,
    );
  }
  return out.join('\n');
}
